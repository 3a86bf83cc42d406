"""`smsdesk report`: the period it asks for, and the terminal table it prints."""

from __future__ import annotations

from datetime import date

import pytest

from smsdesk import analytics
from smsdesk.analytics import Period
from smsdesk.business_hours import BusinessHours
from smsdesk_cli.report import period_query, table

TODAY = date(2026, 11, 29)


@pytest.mark.parametrize(
    ("since", "first", "last", "expected"),
    [
        ("30d", None, None, {"from": "2026-10-31", "to": "2026-11-29"}),
        ("4w", None, None, {"from": "2026-11-02", "to": "2026-11-29"}),
        ("1d", None, None, {"from": "2026-11-29", "to": "2026-11-29"}),
        (None, "2026-11-23", "2026-11-24", {"from": "2026-11-23", "to": "2026-11-24"}),
        (None, None, None, {}),  # the API's default: the last 30 days
    ],
)
def test_the_period_asked_for(since, first, last, expected):
    assert period_query(since, first, last, TODAY) == expected


@pytest.mark.parametrize(("since", "first"), [("30", None), ("0d", None), ("2m", None), ("30d", "2026-11-01")])
def test_a_period_that_cannot_be_asked_for_is_refused(since, first):
    with pytest.raises(ValueError, match="--since"):
        period_query(since, first, None, TODAY)


def test_an_empty_period_prints_dashes_not_errors():
    printed = table(analytics.summary({}, Period(date(2026, 11, 23), TODAY)))
    lines = {line.split("  ")[0]: line for line in printed.splitlines()}
    assert printed.splitlines()[0] == "smsdesk report 2026-11-23 to 2026-11-29"
    assert "- / -" in lines["first response (median / p90)"]
    assert lines["CSAT average"].split()[2] == "-"
    assert lines["complaints"].split()[1] == "0"


def test_the_table_shows_the_possible_opt_outs_still_waiting():
    counting = analytics.Counting(BusinessHours.parse("Mon-Fri 09:00-17:00", "America/New_York", ""))
    raised = [
        counting.event("PossibleOptOutRaised", {"occurred_at": f"2026-11-2{d}T15:00:00Z", "event_id": str(d)})
        for d in (3, 4)
    ]
    cleared = counting.event("PossibleOptOutCleared", {"occurred_at": "2026-11-25T15:00:00Z", "agent": "dana"})
    days: dict = {}
    for (group, day), counters in analytics.totals([c for cs in [*raised, cleared] for c in cs]).items():
        days.setdefault(group, {})[day] = counters
    lines = {line.split("  ")[0]: line for line in table(analytics.summary(days, Period(TODAY, TODAY))).splitlines()}
    row = lines["possible opt-outs waiting"]
    assert row.split()[3] == "1" and "0 raised; agents confirmed 0, cleared 0" in row  # raised before the period
