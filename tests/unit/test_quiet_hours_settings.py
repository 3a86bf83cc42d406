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
