"""Where is the customer? Zones from the number, then Twilio's FromState, then the business's zone."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from smsdesk.time_zones import time_zones_for_number, wall_clock_instant

BUSINESS = ZoneInfo("America/New_York")
TOLL_FREE = "+18005550100"


def keys(zones: tuple[ZoneInfo, ...]) -> list[str]:
    return [zone.key for zone in zones]


@pytest.mark.parametrize(
    ("number", "zone"),
    [
        ("+12125550100", "America/New_York"),  # Manhattan
        ("+18085550100", "Pacific/Honolulu"),
        ("+14155550100", "America/Los_Angeles"),  # San Francisco
        ("+442071234567", "Europe/London"),
    ],
)
def test_the_prefix_of_a_geographic_number_gives_its_zone(number, zone):
    assert keys(time_zones_for_number(number, fallback=BUSINESS)) == [zone]


def test_the_number_wins_over_from_state():
    assert keys(time_zones_for_number("+12125550100", "CA", fallback=BUSINESS)) == ["America/New_York"]


def test_a_toll_free_number_is_placed_by_from_state():
    assert keys(time_zones_for_number(TOLL_FREE, "CA", fallback=BUSINESS)) == ["America/Los_Angeles"]


@pytest.mark.parametrize("state", ["TX", "tx", "Texas", " TEXAS "])
def test_a_state_with_two_zones_gives_both_main_zone_first(state):
    # Most Texans are on Central time; El Paso is on Mountain time.
    assert keys(time_zones_for_number(TOLL_FREE, state, fallback=BUSINESS)) == ["America/Chicago", "America/Denver"]


@pytest.mark.parametrize(
    ("state", "zones"),
    [
        ("FL", ["America/New_York", "America/Chicago"]),
        ("ID", ["America/Boise", "America/Los_Angeles"]),
        ("New York", ["America/New_York"]),
        ("Québec", ["America/Toronto"]),
        ("BC", ["America/Vancouver", "America/Dawson_Creek"]),
    ],
)
def test_from_state_codes_and_names_of_us_states_and_canadian_provinces(state, zones):
    assert keys(time_zones_for_number(TOLL_FREE, state, fallback=BUSINESS)) == zones


def test_a_toll_free_number_without_a_state_gets_the_business_zone_not_every_us_zone():
    assert time_zones_for_number(TOLL_FREE, None, fallback=BUSINESS) == (BUSINESS,)
    assert time_zones_for_number(TOLL_FREE, "ZZ", fallback=BUSINESS) == (BUSINESS,)


def test_an_unassigned_us_number_is_placed_by_from_state():
    assert keys(time_zones_for_number("+15555550100", "WA", fallback=BUSINESS)) == ["America/Los_Angeles"]


def test_a_uk_mobile_is_on_uk_time_although_phonenumbers_only_knows_the_country():
    zones = time_zones_for_number("+447911123456", fallback=BUSINESS)
    assert BUSINESS not in zones
    assert {datetime(2026, 7, 1, 12, tzinfo=UTC).astimezone(zone).hour for zone in zones} == {13}  # BST


@pytest.mark.parametrize("garbage", ["", "garbage", "2125550100", "+1 212 555 0100", "+", "+0123456789", None])
def test_anything_that_is_not_e164_gets_the_fallback_and_no_exception(garbage):
    assert time_zones_for_number(garbage, "CA", fallback=BUSINESS) == (BUSINESS,)


def test_a_number_phonenumbers_cannot_parse_falls_back():
    assert time_zones_for_number("+999123456789", None, fallback=BUSINESS) == (BUSINESS,)


def test_the_heavy_phone_number_metadata_is_not_imported_until_needed():
    code = (
        "import sys, smsdesk.time_zones, smsdesk.business_hours, smsdesk.quiet_hours;"
        "assert 'phonenumbers' not in sys.modules, 'phonenumbers imported at module load'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------- wall clock


def test_a_wall_time_skipped_by_spring_forward_maps_to_the_jump():
    # 2026-03-08 02:30 never happens in New York: clocks go from 01:59:59 EST to 03:00 EDT.
    assert wall_clock_instant(datetime(2026, 3, 8, 2, 30), BUSINESS) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)


def test_a_wall_time_repeated_at_fall_back_maps_to_its_first_or_second_occurrence():
    first = wall_clock_instant(datetime(2026, 11, 1, 1, 30), BUSINESS)
    second = wall_clock_instant(datetime(2026, 11, 1, 1, 30), BUSINESS, fold=1)
    assert (first, second) == (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), datetime(2026, 11, 1, 6, 30, tzinfo=UTC))


@pytest.mark.parametrize(
    ("number", "some_zones"),
    [
        ("+61412345678", {"Australia/Perth", "Australia/Sydney", "Australia/Adelaide"}),  # an Australian mobile
        ("+34612345678", {"Europe/Madrid", "Atlantic/Canary"}),  # a Spanish mobile
        ("+79161234567", {"Europe/Moscow", "Asia/Vladivostok", "Asia/Kamchatka"}),  # a Russian mobile
        ("+5215512345678", {"America/Mexico_City", "America/Tijuana", "America/Cancun"}),  # Mexico, old mobile form
    ],
)
def test_a_number_known_only_by_its_country_may_be_in_any_of_its_zones_and_its_zone_is_unknown(number, some_zones):
    from smsdesk.time_zones import customer_zones

    where = customer_zones(number, fallback=BUSINESS)
    assert some_zones <= set(keys(where.zones))
    assert not where.known


@pytest.mark.parametrize(
    ("number", "zone"),
    [("+61298765432", "Australia/Sydney"), ("+12125550100", "America/New_York"), ("+447700900123", "Europe/London")],
)
def test_a_number_that_says_where_it_is_has_a_known_zone(number, zone):
    from smsdesk.time_zones import customer_zones

    where = customer_zones(number, fallback=BUSINESS)
    assert where.known and zone in keys(where.zones)  # (London, Jersey, Guernsey... keep one clock)


def test_a_number_nobody_can_place_falls_back_to_the_business_zone_as_unknown():
    from smsdesk.time_zones import customer_zones

    assert customer_zones(TOLL_FREE, fallback=BUSINESS) == customer_zones("not a number", fallback=BUSINESS)
    assert not customer_zones(TOLL_FREE, fallback=BUSINESS).known
