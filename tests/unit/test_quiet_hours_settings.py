"""The business's own quiet-hours settings: what it configures is what its customers get."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from smsdesk.quiet_hours import ProactiveCap, QuietHours, QuietHoursError

NEW_YORK = ZoneInfo("America/New_York")
MONDAY_8_15_NEW_YORK = datetime(2026, 11, 23, 13, 15, tzinfo=UTC)


def test_a_window_opening_at_half_past_eight_holds_texts_until_half_past_eight():
    quiet = QuietHours.parse("08:30-20:00")
    assert (quiet.start, quiet.end) == (time(8, 30), time(20, 0))
    assert quiet.next_allowed(MONDAY_8_15_NEW_YORK, [NEW_YORK]) == MONDAY_8_15_NEW_YORK + timedelta(minutes=15)


def test_a_business_may_allow_a_single_proactive_text_a_day():
    cap = ProactiveCap(limit=1)
    first = MONDAY_8_15_NEW_YORK
    assert cap.next_slot([], first) == first
    assert cap.next_slot([first], first + timedelta(hours=1)) == first + timedelta(hours=24)


@pytest.mark.parametrize("limit", [0, -1])
def test_a_cap_that_allows_nothing_is_refused_clearly(limit):
    with pytest.raises(QuietHoursError, match=rf"^the proactive cap must allow at least one message, got {limit}$"):
        ProactiveCap(limit=limit)


def test_a_cap_over_no_time_at_all_is_refused_clearly():
    with pytest.raises(QuietHoursError, match=r"^the proactive cap's period must be positive, got 0:00:00$"):
        ProactiveCap(period=timedelta(0))


@pytest.mark.parametrize(
    ("window", "shown"),
    [({"start": time(8, 0, tzinfo=UTC)}, "start"), ({"end": "20:00"}, "end")],
    ids=["a time in one zone", "text, not a time"],
)
def test_a_window_is_local_times_of_day_and_anything_else_is_refused_clearly(window, shown):
    # The window is read on each customer's own clock: a time pinned to one zone would be wrong.
    with pytest.raises(QuietHoursError, match=rf"^{shown} must be a local time of day, got "):
        QuietHours(**window)
