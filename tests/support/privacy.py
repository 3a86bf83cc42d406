"""The privacy rule, checked on every test: no phone number unmasked, no card number at all, in
anything a test's code printed or logged (compliance rule 7).

After each test phase, everything pytest captured for it (stdout, stderr, and the log records
that reached the root logger) is scanned; a leak turns a passing test into a failure that names
the section and shows the offending line (masked). The report sections see exactly what pytest
captured, whichever stream a function's logger wrote to.

The detectors are written independently of smsdesk's own masking and redaction (a check must
not share the code it checks):

* a phone number is ``+`` (or ``%2B``, URL-encoded) then 8 to 15 digits, not inside a word or a
  base64 string; masked numbers (``+1******0123``) do not match;
* a card number is a run of 13 to 19 digits (single spaces or dashes between them allowed), not
  part of a word or an identifier, passing Luhn. A 13-digit run starting with 1 is an epoch in
  milliseconds (the EMF ``Timestamp`` of every metrics line), not a card: 13-digit card numbers
  are Visa's, which start with 4.

Use it as a plugin (``-p tests.support.privacy``) or import its hook into a conftest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

PHONE = re.compile(r"(?<![\w*+])(?:\+|%2[Bb])[1-9]\d{7,14}(?!\w)")
DIGIT_RUN = re.compile(r"(?<![\w.])(?<!\w-)(?<!\d )\d(?:[ -]?\d)*+(?!\w|-\w)")


def luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def card_numbers(text: str) -> Iterator[str]:
    """Card numbers in ``text``: a whole run, or consecutive groups of a grouped run
    ("order 4432 4111 1111 1111 1111" holds one)."""
    for match in DIGIT_RUN.finditer(text):
        groups = re.split(r"[ -]", match.group(0))
        for start in range(len(groups)):
            for end in range(start + 1, len(groups) + 1):
                digits = "".join(groups[start:end])
                if len(digits) > 19:
                    break
                if len(digits) < 13 or not luhn(digits):
                    continue
                if end - start == 1 and len(digits) == 13 and digits.startswith("1"):
                    continue  # epoch milliseconds
                yield digits


def phone_numbers(text: str) -> Iterator[str]:
    for match in PHONE.finditer(text):
        yield match.group(0)


def _masked(line: str) -> str:
    line = PHONE.sub(lambda m: m.group(0)[:3] + "…", line)
    return DIGIT_RUN.sub(lambda m: "[digits]" if next(card_numbers(m.group(0)), None) else m.group(0), line)


def leaks(text: str) -> list[str]:
    """What in ``text`` breaks the privacy rule, as "kind: line" (the line masked)."""
    found = []
    for line in text.splitlines():
        kinds = [
            kind
            for kind, hits in (("phone number", phone_numbers(line)), ("card number", card_numbers(line)))
            if next(hits, None) is not None
        ]
        found.extend(f"{kind}: {_masked(line)[:300]}" for kind in kinds)
    return found


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when == "setup" or not report.passed:
        return
    # the call phase sees setup's and its own output; teardown, its own
    sections = [(name, text) for name, text in report.sections if report.when == "call" or name.endswith("teardown")]
    problems = [f"{name}: {leak}" for name, text in sections for leak in leaks(text)]
    if problems:
        report.outcome = "failed"
        report.longrepr = "privacy: the captured output has an unmasked number\n" + "\n".join(problems[:10])
        # pytest shows a failed test's captured output: show it masked, not the leak again
        report.sections = [(name, "\n".join(map(_masked, text.splitlines()))) for name, text in report.sections]
