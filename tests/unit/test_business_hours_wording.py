"""How a business's hours read to a customer (the acknowledgement and HELP quote them)."""

from datetime import UTC, datetime

import pytest

from smsdesk.business_hours import BusinessHours

JULY = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "zone", "at", "reads"),
    [
        ("Mon-Fri 09:00-17:00; Sat-Sun 10:00-14:00", "America/New_York", None,
         "Mon-Fri 9:00 AM-5:00 PM; Sat-Sun 10:00 AM-2:00 PM ET"),
        ("Mon 09:00-17:00; Wed 09:00-17:00; Fri 09:00-24:00", "America/New_York", None,
         "Mon, Wed 9:00 AM-5:00 PM; Fri 9:00 AM-midnight ET"),
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
