"""Where is the customer? The time zone(s) a phone number may be in, and wall-clock arithmetic.

The number's prefix decides first, then Twilio's ``FromState``, then the business's own zone. A
number that may be in several zones keeps them all, its primary zone first, so quiet hours hold in
every one (how each case is decided: docs/decisions.md, section 9). phonenumbers is imported on
first use (it is slow to import); the rest is stdlib only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

from smsdesk.phone_numbers import is_e164

_UNKNOWN_ZONE = "Etc/Unknown"

# US states, DC and territories, Canadian provinces and territories -> zones, main zone first.
# Multi-zone: the parts of the state on another clock (Florida's panhandle, El Paso, the
# Aleutians, Michigan's Central counties, north Idaho, Malheur County OR, NW Ontario...).
_EASTERN, _CENTRAL, _MOUNTAIN, _PACIFIC = "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"
_STATE_ZONES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        ("CT", "DC", "DE", "GA", "MA", "MD", "ME", "NC", "NH", "NJ", "NY", "OH", "PA", "RI", "SC", "VA", "VT", "WV"),
        (_EASTERN,),
    ),
    **dict.fromkeys(("AL", "AR", "IA", "IL", "LA", "MN", "MO", "MS", "OK", "WI"), (_CENTRAL,)),
    **dict.fromkeys(("CO", "MT", "NM", "UT", "WY"), (_MOUNTAIN,)),
    **dict.fromkeys(("CA", "NV", "WA"), (_PACIFIC,)),
    "FL": (_EASTERN, _CENTRAL),
    "IN": ("America/Indiana/Indianapolis", _CENTRAL),
    "KY": (_EASTERN, _CENTRAL),
    "MI": ("America/Detroit", "America/Menominee"),
    "TN": (_CENTRAL, _EASTERN),
    "TX": (_CENTRAL, _MOUNTAIN),
    "KS": (_CENTRAL, _MOUNTAIN),
    "NE": (_CENTRAL, _MOUNTAIN),
    "ND": (_CENTRAL, _MOUNTAIN),
    "SD": (_CENTRAL, _MOUNTAIN),
    "AZ": ("America/Phoenix", _MOUNTAIN),  # the Navajo Nation keeps daylight saving time
    "ID": ("America/Boise", _PACIFIC),
    "OR": (_PACIFIC, "America/Boise"),
    "AK": ("America/Anchorage", "America/Adak"),
    "HI": ("Pacific/Honolulu",),
    "PR": ("America/Puerto_Rico",),
    "VI": ("America/St_Thomas",),
    "GU": ("Pacific/Guam",),
    "MP": ("Pacific/Saipan",),
    "AS": ("Pacific/Pago_Pago",),
    "AB": ("America/Edmonton",),
    "BC": ("America/Vancouver", "America/Dawson_Creek"),
    "MB": ("America/Winnipeg",),
    "NB": ("America/Moncton",),
    "NL": ("America/St_Johns", "America/Goose_Bay"),
    "NS": ("America/Halifax",),
    "NT": ("America/Yellowknife",),
    "NU": ("America/Iqaluit", "America/Rankin_Inlet", "America/Cambridge_Bay"),
    "ON": ("America/Toronto", "America/Winnipeg"),
    "PE": ("America/Halifax",),
    "QC": ("America/Toronto",),
    "SK": ("America/Regina",),
    "YT": ("America/Whitehorse",),
}
# Full names (Twilio sometimes sends them), compared by their letters only.
_STATE_NAMES = {
    re.sub(r"[^A-Z]", "", name.upper()): code
    for code, names in {
        "AL": "Alabama",
        "AK": "Alaska",
        "AZ": "Arizona",
        "AR": "Arkansas",
        "CA": "California",
        "CO": "Colorado",
        "CT": "Connecticut",
        "DE": "Delaware",
        "FL": "Florida",
        "GA": "Georgia",
        "HI": "Hawaii",
        "ID": "Idaho",
        "IL": "Illinois",
        "IN": "Indiana",
        "IA": "Iowa",
        "KS": "Kansas",
        "KY": "Kentucky",
        "LA": "Louisiana",
        "ME": "Maine",
        "MD": "Maryland",
        "MA": "Massachusetts",
        "MI": "Michigan",
        "MN": "Minnesota",
        "MS": "Mississippi",
        "MO": "Missouri",
        "MT": "Montana",
        "NE": "Nebraska",
        "NV": "Nevada",
        "NH": "New Hampshire",
        "NJ": "New Jersey",
        "NM": "New Mexico",
        "NY": "New York",
        "NC": "North Carolina",
        "ND": "North Dakota",
        "OH": "Ohio",
        "OK": "Oklahoma",
        "OR": "Oregon",
        "PA": "Pennsylvania",
        "RI": "Rhode Island",
        "SC": "South Carolina",
        "SD": "South Dakota",
        "TN": "Tennessee",
        "TX": "Texas",
        "UT": "Utah",
        "VT": "Vermont",
        "VA": "Virginia",
        "WA": "Washington",
        "WV": "West Virginia",
        "WI": "Wisconsin",
        "WY": "Wyoming",
        "DC": "District of Columbia|Washington DC",
        "PR": "Puerto Rico",
        "VI": "US Virgin Islands|Virgin Islands",
        "GU": "Guam",
        "MP": "Northern Mariana Islands",
        "AS": "American Samoa",
        "AB": "Alberta",
        "BC": "British Columbia",
        "MB": "Manitoba",
        "NB": "New Brunswick",
        "NL": "Newfoundland and Labrador|Newfoundland",
        "NS": "Nova Scotia",
        "NT": "Northwest Territories",
        "NU": "Nunavut",
        "ON": "Ontario",
        "PE": "Prince Edward Island|PEI",
        "QC": "Quebec",
        "SK": "Saskatchewan",
        "YT": "Yukon",
    }.items()
    for name in names.split("|")
}

# Two instants (winter and summer) at which zones that keep one clock agree.
_CLOCK_SAMPLES = (datetime(2025, 1, 15, 12, tzinfo=UTC), datetime(2025, 7, 15, 12, tzinfo=UTC))


@dataclass(frozen=True, slots=True)
class CustomerZones:
    """Where the customer may be: every zone, primary first; ``known`` when they all keep one
    clock (a time can be written in the customer's own zone without guessing)."""

    zones: tuple[ZoneInfo, ...]
    known: bool


def customer_zones(
    e164: str, from_state: str | None = None, *, fallback: ZoneInfo, chosen: str | None = None
) -> CustomerZones:
    """The zones the customer behind ``e164`` may be in (never empty), and whether that is known.

    A zone an agent ``chosen`` for the customer wins over any guess. Anything unusable (not
    E.164, an unknown state) falls through to the next source, and finally to the business's
    zone, ``fallback``, which is not the customer's known zone. This never raises.
    """
    agent_zone = _load((chosen,)) if chosen else ()
    if agent_zone:
        return CustomerZones(agent_zone, known=True)
    if isinstance(e164, str) and is_e164(e164):
        zones = _zones_from_number(e164) or _zones_from_state(from_state)
        if zones:
            return CustomerZones(zones, len(zones) == 1 or _one_clock(zones))
    return CustomerZones((fallback,), known=False)


def time_zones_for_number(
    e164: str, from_state: str | None = None, *, fallback: ZoneInfo, chosen: str | None = None
) -> tuple[ZoneInfo, ...]:
    """The zones the customer behind ``e164`` may be in: never empty, primary zone first."""
    return customer_zones(e164, from_state, fallback=fallback, chosen=chosen).zones


def is_time_zone(name: str) -> bool:
    """An IANA zone name (America/New_York), as an agent may set for a customer."""
    return name in available_timezones()


def _zones_from_number(e164: str) -> tuple[ZoneInfo, ...]:
    try:
        import phonenumbers
        from phonenumbers import timezone as number_zones

        number = phonenumbers.parse(e164)
        names = tuple(number_zones.time_zones_for_number(number))
        # TIMEZONE_DATA is phonenumbers' own table, not in its type stubs.
        data = number_zones.TIMEZONE_DATA  # type: ignore[attr-defined]
        country_wide = tuple(data.get(str(number.country_code), ()))
    except Exception:
        return ()
    nanp = number.country_code == 1
    if not names or _UNKNOWN_ZONE in names:
        if nanp:
            return ()
        names = country_wide  # somewhere in the country: every zone of it
    zones = _load(tuple(name for name in names if name != _UNKNOWN_ZONE))
    if nanp and len(zones) > 1 and set(names) == set(country_wide) and not _one_clock(zones):
        # +1 spans Guam to Newfoundland: a number known only as NANP says nothing useful.
        return ()
    return zones


def _zones_from_state(from_state: str | None) -> tuple[ZoneInfo, ...]:
    if not isinstance(from_state, str):
        return ()
    import unicodedata

    letters = unicodedata.normalize("NFKD", from_state).encode("ascii", "ignore").decode().upper()
    letters = re.sub(r"[^A-Z]", "", letters.replace("&", "AND"))
    code = letters if letters in _STATE_ZONES else _STATE_NAMES.get(letters)
    return _load(_STATE_ZONES[code]) if code else ()


def _load(names: tuple[str, ...]) -> tuple[ZoneInfo, ...]:
    zones = []
    for name in dict.fromkeys(names):  # deduplicated, order kept
        try:
            zones.append(ZoneInfo(name))
        except (KeyError, ValueError, OSError):  # a name this system's tz database lacks
            continue
    return tuple(zones)


def _one_clock(zones: tuple[ZoneInfo, ...]) -> bool:
    return all(len({at.astimezone(zone).utcoffset() for zone in zones}) == 1 for at in _CLOCK_SAMPLES)


# ---------------------------------------------------------------------- wall-clock helpers


def as_utc(at: datetime, name: str = "time") -> datetime:
    """``at`` in UTC; naive datetimes are refused (every time in smsdesk is an instant)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {at!r}")
    return at.astimezone(UTC)


def wall_clock_instant(local: datetime, zone: ZoneInfo, *, fold: int = 0) -> datetime:
    """The instant (UTC) at which clocks in ``zone`` read the naive wall time ``local``.

    A repeated time (the fall-back hour) gives its first occurrence, or its second with
    ``fold=1``. A skipped time (the spring-forward gap: 2026-03-08 02:30 in New York) gives the
    moment the clocks jump past it (03:00 EDT), the first instant they read ``local`` or later,
    so "open from 02:30" opens as soon as the clocks allow, not an hour late or early.
    """
    instant = local.replace(tzinfo=zone, fold=fold).astimezone(UTC)
    if _wall(instant, zone) == local:
        return instant
    # In a gap: one reading of it lies before the jump, the other after it. Find the jump.
    other = local.replace(tzinfo=zone, fold=1 - fold).astimezone(UTC)
    before, after = sorted((instant, other))
    while after - before > timedelta(seconds=1):
        middle = before + timedelta(seconds=(after - before).total_seconds() // 2)
        if _wall(middle, zone) >= local:
            after = middle
        else:
            before = middle
    return after


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)
