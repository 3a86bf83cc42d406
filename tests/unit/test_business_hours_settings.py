"""The business-hours setting as the person configuring it meets it: what is accepted, and the
whole sentence they read when something is not; and the promise as the customer reads it, in
their language and with the business's zone."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from smsdesk.business_hours import BusinessHours, BusinessHoursError, describe_reply_by


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("Mon-Fri 25:00-26:00", '"25:00" is not a time of day (00:00 to 23:59)'),
        ("Mon 09:00-24:30", '"24:30" is not a time of day (00:00 to 24:00)'),
        (
            "Mon-Fri 09:00-09:00",
            '"09:00-09:00" ends before it starts (write overnight hours as two days, e.g. 22:00-24:00 and 00:00-06:00)',
        ),
        ("Mon-Tue-Wed 09:00-17:00", '"Mon-Tue-Wed" in "Mon-Tue-Wed 09:00-17:00" is not a day or a range like Mon-Fri'),
        (
            "Mnday-Fri 09:00-17:00",
            'unknown day "Mnday" in "Mnday-Fri 09:00-17:00" (use Mon, Tue, Wed, Thu, Fri, Sat, Sun)',
        ),
        (" ; ", 'business hours are empty: give e.g. "Mon-Fri 09:00-17:00"'),
    ],
)
def test_a_bad_setting_is_refused_with_the_whole_sentence(spec, message):
    with pytest.raises(BusinessHoursError) as error:
        BusinessHours.parse(spec, "UTC")
    assert str(error.value) == message


def test_touching_hours_are_one_span_and_every_minute_up_to_59_is_a_time():
    assert BusinessHours.parse("Mon 09:00-12:00,12:00-17:59", "UTC").describe() == "Mon 9:00 AM-5:59 PM (UTC time)"


@pytest.mark.parametrize("spec", ["24/7", "24x7", "24X7"])
def test_always_open_may_be_written_either_way(spec):
    assert BusinessHours.parse(spec, "UTC").describe() == "24/7"


def test_a_closed_day_given_first_does_not_hide_the_days_after_it():
    hours = BusinessHours.parse("Sun closed; Mon-Fri 09:00-17:00", "UTC")
    assert hours.describe() == "Mon-Fri 9:00 AM-5:00 PM (UTC time)"


def test_day_names_may_end_in_a_full_stop():
    assert BusinessHours.parse("Mon.-Fri. 09:00-17:00", "UTC").describe() == "Mon-Fri 9:00 AM-5:00 PM (UTC time)"


def test_holidays_pasted_with_a_leading_space_all_count():
    hours = BusinessHours.parse("Mon-Fri 09:00-17:00", "UTC", " 2026-12-25, 2027-01-01")
    assert not hours.is_open(datetime(2026, 12, 25, 12, 0, tzinfo=UTC))
    assert not hours.is_open(datetime(2027, 1, 1, 12, 0, tzinfo=UTC))


# Hours built in code (not parsed) are checked the same way.
UTC_ZONE = ZoneInfo("UTC")


def test_hours_built_in_code_that_end_as_they_start_are_refused():
    with pytest.raises(BusinessHoursError) as error:
        BusinessHours(UTC_ZONE, {0: ((time(9), time(9)),)}, frozenset())
    assert str(error.value) == "Mon: 09:00-09:00 ends before it starts"


def test_hours_built_in_code_may_touch_but_not_overlap():
    touching = BusinessHours(UTC_ZONE, {0: ((time(9), time(12)), (time(12), time(17)))}, frozenset())
    assert touching.is_open(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))  # a Monday
    with pytest.raises(BusinessHoursError) as error:
        BusinessHours(UTC_ZONE, {0: ((time(9), time(13)), (time(12), time(17)))}, frozenset())
    assert str(error.value) == "Mon: intervals must be sorted and must not overlap"


NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # Monday 10:00 in New York


@pytest.mark.parametrize(
    ("reply_by", "spanish", "french_with_zone"),
    [
        (datetime(2026, 11, 23, 17, 2, tzinfo=UTC), "hoy antes de las 12:05", "avant 12h05 aujourd'hui ET"),
        (datetime(2026, 11, 24, 14, 0, tzinfo=UTC), "mañana antes de las 9:00", "avant 9h00 demain ET"),
        (datetime(2026, 11, 27, 14, 0, tzinfo=UTC), "el viernes antes de las 9:00", "avant 9h00 vendredi ET"),
        (datetime(2026, 12, 8, 14, 0, tzinfo=UTC), "el 8/12 antes de las 9:00", "avant 9h00 le 8/12 ET"),
    ],
)
def test_the_promise_is_in_the_customer_s_language_with_the_business_s_zone(reply_by, spanish, french_with_zone):
    assert describe_reply_by(reply_by, NOW, NEW_YORK, language="es") == spanish
    assert describe_reply_by(reply_by, NOW, NEW_YORK, zone_label="ET", language="fr") == french_with_zone
