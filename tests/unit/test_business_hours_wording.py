"""How a business's hours read to a customer (the acknowledgement and HELP quote them)."""

from datetime import UTC, datetime

import pytest

from smsdesk.business_hours import BusinessHours

JULY = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "zone", "at", "reads"),
    [
        (
            "Mon-Fri 09:00-17:00; Sat-Sun 10:00-14:00",
            "America/New_York",
            None,
            "Mon-Fri 9:00 AM-5:00 PM; Sat-Sun 10:00 AM-2:00 PM ET",
        ),
        (
            "Mon 09:00-17:00; Wed 09:00-17:00; Fri 09:00-24:00",
            "America/New_York",
            None,
            "Mon, Wed 9:00 AM-5:00 PM; Fri 9:00 AM-midnight ET",
        ),
        ("Mon-Fri 00:00-24:00; Sat 10:00-14:00", "America/New_York", None, "Mon-Fri all day; Sat 10:00 AM-2:00 PM ET"),
        # a lunch break; a zone whose name has no region
        ("Mon-Fri 09:00-12:00,13:00-17:00", "UTC", None, "Mon-Fri 9:00 AM-12:00 PM, 1:00 PM-5:00 PM (UTC time)"),
        # a zone without a generic label: its abbreviation at the time, else its city
        ("Mon-Fri 09:00-17:00", "Europe/London", JULY, "Mon-Fri 9:00 AM-5:00 PM BST"),
        ("Mon-Fri 09:00-17:00", "Europe/London", None, "Mon-Fri 9:00 AM-5:00 PM (London time)"),
        # "-03" is no name: the city, its underscore a space
        ("Mon-Fri 09:00-17:00", "America/Argentina/Buenos_Aires", JULY, "Mon-Fri 9:00 AM-5:00 PM (Buenos Aires time)"),
    ],
)
def test_the_hours_read_as_a_customer_expects(spec, zone, at, reads):
    assert BusinessHours.parse(spec, zone).describe(at) == reads


def test_a_business_reopening_exactly_two_weeks_later_still_promises_its_reopening():
    from datetime import timedelta

    from smsdesk.business_hours import BusinessHoursError, reply_by

    mondays = BusinessHours.parse("Mon 09:00-17:00", "UTC", "2026-11-23, 2026-11-30")
    received = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a closed Monday, and the next one too
    assert reply_by(received, mondays, 120) == received + timedelta(days=14)
    with pytest.raises(BusinessHoursError, match="does not open within 14 days"):
        reply_by(received - timedelta(minutes=1), mondays, 120)  # a minute more than two weeks


def closed_for(days: int, *, from_day: int = 1) -> BusinessHours:
    from datetime import date, timedelta

    first = date(2026, 1, 5) + timedelta(days=from_day)
    holidays = ",".join((first + timedelta(days=k)).isoformat() for k in range(days))
    return BusinessHours.parse("Mon-Sun 09:00-17:00", "UTC", holidays)


MONDAY_EVENING = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)


def test_a_business_closed_for_398_days_is_found_when_it_reopens():
    reopening = datetime(2027, 2, 8, 9, 0, tzinfo=UTC)
    assert closed_for(398).next_opening(MONDAY_EVENING) == reopening
    assert closed_for(398).add_open_minutes(MONDAY_EVENING, 60) == datetime(2027, 2, 8, 10, 0, tzinfo=UTC)


def test_open_minutes_count_the_day_before_a_400_day_closure_and_the_reopening():
    # Tuesday's 8 open hours, then 400 days closed, then the last hour on the day it reopens
    hours = closed_for(400, from_day=2)
    assert hours.add_open_minutes(MONDAY_EVENING, 9 * 60) == datetime(2027, 2, 11, 10, 0, tzinfo=UTC)


def test_a_business_closed_for_longer_is_refused_clearly_not_searched_forever():
    from smsdesk.business_hours import BusinessHoursError

    with pytest.raises(
        BusinessHoursError, match=r"^the business does not open within 400 days of 2026-01-05 18:00 UTC$"
    ):
        closed_for(399).next_opening(MONDAY_EVENING)
    with pytest.raises(BusinessHoursError, match=r"^the business does not open for 400 days \(holidays\?\)$"):
        closed_for(399).add_open_minutes(MONDAY_EVENING, 60)


def test_no_open_minutes_is_now_and_negative_ones_are_refused():
    hours = closed_for(0)
    assert hours.add_open_minutes(MONDAY_EVENING, 0) == MONDAY_EVENING
    with pytest.raises(ValueError, match=r"^minutes must not be negative, got -1$"):
        hours.add_open_minutes(MONDAY_EVENING, -1)


def test_hours_that_fall_in_the_spring_forward_gap_are_skipped_that_day():
    # 02:00-02:30 does not exist on 8 March 2026 in New York: the next real opening is a week on.
    hours = BusinessHours.parse("Sun 02:00-02:30", "America/New_York")
    assert hours.next_opening(datetime(2026, 3, 8, 6, 0, tzinfo=UTC)) == datetime(2026, 3, 15, 6, 0, tzinfo=UTC)


def test_hours_given_for_some_days_only_mean_closed_on_the_others():
    from datetime import time
    from zoneinfo import ZoneInfo

    hours = BusinessHours(ZoneInfo("America/New_York"), {0: [(time(9), time(17))]}, frozenset())
    assert dict(hours.weekly)[3] == ()
    assert not hours.is_open(datetime(2026, 11, 26, 15, 0, tzinfo=UTC))  # Thursday 10:00
    assert hours.describe() == "Mon 9:00 AM-5:00 PM ET"


def test_a_business_that_is_never_open_is_refused_clearly_and_holidays_cannot_change_later():
    from datetime import date, time
    from zoneinfo import ZoneInfo

    from smsdesk.business_hours import BusinessHoursError

    with pytest.raises(BusinessHoursError, match=r"^the business is never open: give at least one day with hours$"):
        BusinessHours(ZoneInfo("UTC"), {}, frozenset())
    hours = BusinessHours(ZoneInfo("UTC"), {0: [(time(9), time(17))]}, [date(2026, 12, 28)])
    assert hours.holidays == frozenset({date(2026, 12, 28)}) and isinstance(hours.holidays, frozenset)


def test_a_promise_names_the_zone_in_force_when_it_falls():
    # the acknowledgement's "by 9:00 AM BST": summer time in July, GMT in January
    hours = BusinessHours.parse("Mon-Fri 09:00-17:00", "Europe/London")
    assert hours.zone_label(JULY) == "BST"
    assert hours.zone_label(datetime(2026, 1, 15, 12, 0, tzinfo=UTC)) == "GMT"
    assert hours.zone_label() == "(London time)"


def test_the_400_days_are_counted_in_the_business_s_own_days():
    # Kiritimati is UTC+14: Monday 18:00 UTC is Tuesday 08:00 there. Closed from that Tuesday for
    # 399 of its days, it is found when it reopens, as the same closure in UTC is (above).
    from datetime import date, timedelta

    holidays = ",".join((date(2026, 1, 6) + timedelta(days=k)).isoformat() for k in range(399))
    hours = BusinessHours.parse("Mon-Sun 09:00-17:00", "Pacific/Kiritimati", holidays)
    # 10:00 on Tuesday 9 February 2027 there
    assert hours.add_open_minutes(MONDAY_EVENING, 60) == datetime(2027, 2, 8, 20, 0, tzinfo=UTC)
