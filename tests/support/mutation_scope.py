"""Which tests ``make mutate`` tries a classification or business-hours mutant on: its unit tests.

Every inbound text is classified, and every function's settings hold business hours, so ~210 and
~75 integration tests reach those modules; they assert what is done with a reading or a promise,
while the unit tests (the labelled corpora and cases; the hours, their wording and time zones)
assert the reading and the promise themselves. mutmut tries a surviving mutant on every test
that reached it, minutes each on the shared machine, so a mutant of these modules is tried on
the unit tests that reached it, and on the integration tests only when no unit test did. Fewer
tests can only turn a caught mutant into a survivor, never the other way: the score is not
flattered (decisions 21). Active only in a mutant's run (mutmut sets ``MUTANT_UNDER_TEST``).
"""

from __future__ import annotations

import os

import pytest

UNIT_TESTS_ONLY = ("smsdesk.classification.", "smsdesk.business_hours.")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.environ.get("MUTANT_UNDER_TEST", "").startswith(UNIT_TESTS_ONLY):
        return
    unit = [item for item in items if item.nodeid.startswith("tests/unit/")]
    if unit and len(unit) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in unit])
        items[:] = unit
