"""The reply-by promise: business hours, holidays, DST, and how the customer reads it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsdesk.business_hours import BusinessHours, BusinessHoursError, describe_reply_by, reply_by

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
LONDON = ZoneInfo("Europe/London")
WEEKDAYS = BusinessHours.parse("Mon-Fri 09:00-17:00", "America/New_York", "2026-12-25")


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)


# ---------------------------------------------------------------------- the promise


def test_a_friday_evening_complaint_is_promised_monday_9am_in_each_customers_own_zone():
    received = ny(2026, 11, 27, 17, 30)  # Friday, after closing
    promise = reply_by(received, WEEKDAYS, 120)
    assert promise == ny(2026, 11, 30, 9, 0)  # the opening itself, not opening + 2 h
    assert describe_reply_by(promise, received, NEW_YORK) == "by 9:00 AM Monday"
    # The business opens at 9:00 in New York: that is 6:00 on a Los Angeles customer's clock.
    assert describe_reply_by(promise, received, LOS_ANGELES) == "by 6:00 AM Monday"


def test_a_complaint_during_open_hours_is_promised_the_target_in_open_time():
    received = ny(2026, 11, 23, 10, 0)  # Monday 10:00
    promise = reply_by(received, WEEKDAYS, 120)
    assert promise == ny(2026, 11, 23, 12, 0)
    assert describe_reply_by(promise, received, NEW_YORK) == "by 12:00 PM today"


def test_open_time_left_at_closing_carries_over_to_the_next_morning():
    received = ny(2026, 11, 23, 16, 30)  # 30 minutes before closing
    promise = reply_by(received, WEEKDAYS, 120)
    assert promise == ny(2026, 11, 24, 10, 30)
    assert describe_reply_by(promise, received, NEW_YORK) == "by 10:30 AM tomorrow"


def test_a_night_complaint_is_promised_the_opening_tomorrow():
    received = ny(2026, 11, 23, 22, 0)
    assert describe_reply_by(reply_by(received, WEEKDAYS, 120), received, NEW_YORK) == "by 9:00 AM tomorrow"


def test_holidays_are_skipped_christmas_eve_evening_is_promised_boxing_day():
    hours = BusinessHours.parse("Mon-Sat 09:00-17:00", "America/New_York", "2026-12-25")
    received = ny(2026, 12, 24, 18, 0)  # Thursday evening; Friday is Christmas
    promise = reply_by(received, hours, 60)
    assert promise == ny(2026, 12, 26, 9, 0)
    assert describe_reply_by(promise, received, NEW_YORK) == "by 9:00 AM Saturday"


def test_a_promise_more_than_six_days_out_names_the_date():
    hours = BusinessHours.parse("Mon-Fri 09:00-17:00", "America/New_York", "2026-12-21, 2026-12-22, 2026-12-23")
    received = ny(2026, 12, 18, 18, 0)  # Friday; Mon-Wed are holidays, Friday Christmas
    promise = reply_by(received, hours, 60)
    assert promise == ny(2026, 12, 24, 9, 0)
    assert describe_reply_by(promise, received, NEW_YORK) == "by 9:00 AM Thursday"
    later = BusinessHours.parse(
        "Mon-Fri 09:00-17:00", "America/New_York", "2026-12-21, 2026-12-22, 2026-12-23, 2026-12-24, 2026-12-25"
    )
    promise = reply_by(received, later, 60)
    assert describe_reply_by(promise, received, NEW_YORK) == "by 9:00 AM on Dec 28"


def test_no_promise_is_made_more_than_14_days_out():
    hours = BusinessHours.parse(
        "Mon-Fri 09:00-17:00",
        "America/New_York",
        ", ".join(str(date(2026, 12, 1) + timedelta(days=d)) for d in range(20)),
    )
    with pytest.raises(BusinessHoursError, match="14 days"):
        reply_by(ny(2026, 11, 30, 18, 0), hours, 60)
    with pytest.raises(BusinessHoursError, match="too long"):
        reply_by(ny(2026, 11, 23, 10, 0), WEEKDAYS, 14 * 24 * 60)  # more open minutes than 14 days hold


# ---------------------------------------------------------------------- how it reads


@pytest.mark.parametrize(
    ("promise", "text"),
    [
        (ny(2026, 11, 23, 15, 30), "by 3:30 PM today"),
        (ny(2026, 11, 23, 15, 30, 1), "by 3:35 PM today"),  # one second late -> next 5 minutes
        (ny(2026, 11, 23, 15, 31), "by 3:35 PM today"),
        (ny(2026, 11, 23, 23, 58), "by 12:00 AM tomorrow"),  # rounding up can cross midnight
        (ny(2026, 11, 24, 0, 5), "by 12:05 AM tomorrow"),
        (ny(2026, 11, 29, 12, 0), "by 12:00 PM Sunday"),  # six days ahead: the weekday
        (ny(2026, 11, 30, 9, 0), "by 9:00 AM on Nov 30"),  # seven days ahead: the date
        (ny(2027, 1, 4, 9, 0), "by 9:00 AM on Jan 4"),
    ],
)
def test_the_promise_is_rounded_up_never_down_and_worded_for_a_customer(promise, text):
    now = ny(2026, 11, 23, 10, 0)  # Monday
    assert describe_reply_by(promise, now, NEW_YORK) == text
    assert text.isascii() and "\u202f" not in text  # GSM-7: no narrow no-break space


def test_today_and_tomorrow_are_the_customers_days_not_the_business():
    # 22:30 in New York is already tomorrow in London.
    now = ny(2026, 11, 23, 22, 30)
    promise = ny(2026, 11, 24, 9, 0)
    assert describe_reply_by(promise, now, NEW_YORK) == "by 9:00 AM tomorrow"
    assert describe_reply_by(promise, now, LONDON) == "by 2:00 PM today"


# ---------------------------------------------------------------------- open time


def test_open_minutes_skip_the_lunch_gap_and_closed_days():
    hours = BusinessHours.parse("Mon,Wed 08:30-12:00,13:00-17:30", "America/New_York")
    assert hours.add_open_minutes(ny(2026, 11, 23, 11, 0), 90) == ny(2026, 11, 23, 13, 30)
    # Monday 17:00: 30 minutes left, Tuesday closed, Wednesday 08:30 + 60 minutes.
    assert hours.add_open_minutes(ny(2026, 11, 23, 17, 0), 90) == ny(2026, 11, 25, 9, 30)
    # Reaching exactly the closing time is the closing time, not the next opening.
    assert hours.add_open_minutes(ny(2026, 11, 23, 11, 0), 60) == ny(2026, 11, 23, 12, 0)


def test_open_minutes_from_a_closed_moment_start_at_the_opening():
    assert WEEKDAYS.add_open_minutes(ny(2026, 11, 21, 12, 0), 30) == ny(2026, 11, 23, 9, 30)  # Saturday


def test_is_open_and_next_opening():
    assert WEEKDAYS.is_open(ny(2026, 11, 23, 9, 0))
    assert not WEEKDAYS.is_open(ny(2026, 11, 23, 17, 0))
    assert not WEEKDAYS.is_open(ny(2026, 12, 25, 12, 0))  # holiday
    assert WEEKDAYS.next_opening(ny(2026, 11, 23, 12, 0)) == ny(2026, 11, 23, 12, 0)
    assert WEEKDAYS.next_opening(ny(2026, 12, 24, 17, 0)) == ny(2026, 12, 28, 9, 0)


def test_24_7_is_always_open_and_counts_every_minute():
    hours = BusinessHours.parse("24/7", "America/New_York")
    assert hours.is_open(ny(2026, 12, 25, 3, 0))
    assert hours.add_open_minutes(ny(2026, 11, 27, 23, 0), 120) == ny(2026, 11, 28, 1, 0)
    assert reply_by(ny(2026, 11, 28, 3, 0), hours, 30) == ny(2026, 11, 28, 3, 30)


def test_an_interval_may_run_to_midnight():
    hours = BusinessHours.parse("Fri 18:00-24:00; Sat 00:00-02:00", "America/New_York")
    assert hours.weekly[4] == ((time(18, 0), time(0, 0)),)  # time(0) as an end = midnight
    assert hours.add_open_minutes(ny(2026, 11, 27, 23, 0), 120) == ny(2026, 11, 28, 1, 0)


# ---------------------------------------------------------------------- DST (US 2026: Mar 8, Nov 1)


def test_across_spring_forward_weekday_hours_keep_their_wall_clock_times():
    friday = ny(2026, 3, 6, 16, 0)  # EST
    promise = reply_by(friday, WEEKDAYS, 120)
    assert promise == ny(2026, 3, 9, 10, 0)  # EDT: 14:00 UTC, not 15:00
    assert promise.astimezone(UTC) == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


def test_24_7_counts_real_minutes_across_the_spring_forward_gap():
    hours = BusinessHours.parse("24/7", "America/New_York")
    # Four real hours after 23:00 EST is 04:00 EDT: the wall clock skips 02:00-03:00.
    assert hours.add_open_minutes(ny(2026, 3, 7, 23, 0), 240) == datetime(2026, 3, 8, 8, 0, tzinfo=UTC)


def test_the_morning_clocks_spring_forward_a_01_to_04_shift_lasts_two_hours():
    hours = BusinessHours.parse("Sun 01:00-04:00", "America/New_York")
    opening = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)  # 01:00 EST
    assert hours.add_open_minutes(opening, 120) == datetime(2026, 3, 8, 8, 0, tzinfo=UTC)  # 04:00 EDT
    assert hours.add_open_minutes(opening, 150) == datetime(2026, 3, 15, 5, 30, tzinfo=UTC)  # next Sunday 01:30 EDT


def test_an_opening_time_the_clocks_skip_opens_when_they_jump():
    hours = BusinessHours.parse("Sun 02:30-05:00", "America/New_York")
    assert hours.next_opening(ny(2026, 3, 8, 0, 0)) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 03:00 EDT


def test_the_night_clocks_fall_back_a_01_to_03_shift_lasts_three_hours():
    hours = BusinessHours.parse("Sun 01:00-03:00", "America/New_York")
    opening = datetime(2026, 11, 1, 5, 0, tzinfo=UTC)  # 01:00 EDT, the first 01:00
    assert hours.next_opening(datetime(2026, 11, 1, 4, 0, tzinfo=UTC)) == opening
    assert hours.add_open_minutes(opening, 150) == datetime(2026, 11, 1, 7, 30, tzinfo=UTC)  # 02:30 EST
    assert hours.is_open(datetime(2026, 11, 1, 6, 30, tzinfo=UTC))  # the second 01:30 (EST)


def test_a_promise_across_fall_back_is_read_on_the_new_clock():
    received = ny(2026, 10, 30, 18, 0)  # Friday, EDT
    promise = reply_by(received, WEEKDAYS, 60)
    assert promise.astimezone(UTC) == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # 09:00 EST
    assert describe_reply_by(promise, received, NEW_YORK) == "by 9:00 AM Monday"


# ---------------------------------------------------------------------- parsing


def test_the_documented_forms_parse():
    hours = BusinessHours.parse("Mon-Fri 09:00-17:00; Sat 10:00-14:00; Sun closed", "America/New_York")
    assert hours.weekly[0] == ((time(9), time(17)),)
    assert hours.weekly[5] == ((time(10), time(14)),)
    assert hours.weekly[6] == ()
    split = BusinessHours.parse("Mon,Wed 08:30-12:00,13:00-17:30", "Europe/London", "2026-12-25, 2027-01-01")
    assert split.weekly[2] == ((time(8, 30), time(12)), (time(13), time(17, 30)))
    assert split.weekly[1] == ()
    assert split.holidays == {date(2026, 12, 25), date(2027, 1, 1)}
    assert split.time_zone == LONDON
    assert all(BusinessHours.parse("24/7", "UTC").weekly[day] == ((time(0), time(0)),) for day in range(7))


def test_describe_is_what_the_hours_keyword_answers():
    hours = BusinessHours.parse("Mon-Fri 09:00-17:00; Sat 10:00-14:00", "America/New_York")
    assert hours.describe(ny(2026, 11, 23, 10, 0)) == "Mon-Fri 9:00 AM-5:00 PM; Sat 10:00 AM-2:00 PM ET"
    assert BusinessHours.parse("24/7", "America/New_York").describe() == "24/7"


@pytest.mark.parametrize(
    ("spec", "zone", "holidays", "names"),
    [
        ("", "America/New_York", "", "empty"),
        ("   ;  ", "America/New_York", "", "empty"),
        ("Sun closed", "America/New_York", "", "never open"),
        ("Mnday-Fri 09:00-17:00", "America/New_York", "", '"Mnday"'),
        ("Mon-Fri 25:00-26:00", "America/New_York", "", '"25:00"'),
        ("Mon-Fri 09:60-17:00", "America/New_York", "", '"09:60"'),
        ("Mon 24:00-24:00", "America/New_York", "", '"24:00"'),
        ("Mon-Fri 17:00-09:00", "America/New_York", "", '"17:00-09:00" ends before it starts'),
        ("Mon-Fri 09:00-09:00", "America/New_York", "", "ends before it starts"),
        ("Mon 08:30-12:00,11:00-17:30", "America/New_York", "", "Mon: 11:00-17:30 overlaps 08:30-12:00"),
        ("Mon-Fri 09:00-17:00; Wed 12:00-18:00", "America/New_York", "", "Wed: 12:00-18:00 overlaps"),
        ("Mon-Fri 09:00-17:00; Fri closed", "America/New_York", "", "Fri is given both hours and closed"),
        ("Mon-Fri", "America/New_York", "", '"Mon-Fri" is not days and hours'),
        ("Mon-Fri 9-5", "America/New_York", "", '"9-5"'),
        ("Mon-Fri 09:00-17:00 EST", "America/New_York", "", '"09:00-17:00 EST"'),
        ("Mon--Fri 09:00-17:00", "America/New_York", "", '"Mon--Fri"'),
        ("Mon-Fri 09:00-17:00", "America/Nowhere", "", '"America/Nowhere" is not a time zone'),
        ("Mon-Fri 09:00-17:00", "", "", "is not a time zone"),
        ("Mon-Fri 09:00-17:00", "America/New_York", "2026-12-32", 'holiday "2026-12-32"'),
        ("Mon-Fri 09:00-17:00", "America/New_York", "12/25/2026", 'holiday "12/25/2026"'),
    ],
)
def test_every_malformed_setting_is_refused_with_a_message_naming_the_bad_part(spec, zone, holidays, names):
    with pytest.raises(BusinessHoursError) as error:
        BusinessHours.parse(spec, zone, holidays)
    assert names in str(error.value)
    assert isinstance(error.value, ValueError)  # the configuration reader reports ValueErrors


def test_day_names_are_forgiving_and_ranges_may_wrap_the_weekend():
    hours = BusinessHours.parse("fri-MON 10:00-16:00; Weds 09:00-12:00; Thursday 09:00-12:00", "UTC")
    assert [day for day in range(7) if hours.weekly[day]] == [0, 2, 3, 4, 5, 6]


# ---------------------------------------------------------------------- a property


@settings(max_examples=150, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
    first=st.integers(min_value=1, max_value=3000),
    second=st.integers(min_value=1, max_value=3000),
)
def test_splitting_a_target_in_two_gives_the_same_promise(start, first, second):
    hours = BusinessHours.parse("Mon-Fri 08:30-12:00,13:00-17:30; Sat 10:00-14:00", "America/New_York", "2026-12-25")
    whole = hours.add_open_minutes(start, first + second)
    assert whole == hours.add_open_minutes(hours.add_open_minutes(start, first), second)
    assert whole > start
