"""When will a human reply? The business's hours and holidays, and the reply-by promise.

Hours are written the way a business states them, in its own time zone:
``"Mon-Fri 09:00-17:00; Sat 10:00-14:00"``, ``"Mon,Wed 08:30-12:00,13:00-17:30"``, ``"24/7"``,
``"Sun closed"``; holidays are dates (``"2026-12-25, 2027-01-01"``), closed all day. An
interval may end at 24:00; overnight hours are written as two days.

Intervals are wall-clock times in the business's zone, so they move with its clocks at a DST
change; open time is counted in real elapsed minutes (the morning the clocks spring forward,
"Sun 01:00-04:00" is two hours long). An opening time the clocks skip opens when they jump past
it; a repeated one opens at its first occurrence.

The reply-by promise: a complaint received while the business is open gets a reply within
``target_minutes`` of *open* time; one received while it is closed is promised the next opening
itself ("by 9:00 AM tomorrow": the time a customer can picture, not opening + target). A promise
is never more than 14 days out. The customer reads it in *their* zone, rounded *up* to the next
five minutes: a promise may be later than we computed, never earlier.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from types import MappingProxyType
from zoneinfo import ZoneInfo

from smsdesk.errors import SmsDeskError
from smsdesk.time_zones import as_utc, wall_clock_instant

REPLY_BY_HORIZON = timedelta(days=14)
_SEARCH_DAYS = 400  # next_opening / add_open_minutes give up after this long without open time
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_END_OF_DAY = 24 * 60
_CLAUSE = re.compile(r"(?P<days>[^\d]+?)\s+(?P<hours>\d.*|closed)", re.IGNORECASE)
_INTERVAL = re.compile(r"(\d{1,2}:\d{2})\s*[-\u2013]\s*(\d{1,2}:\d{2})")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
# How the HOURS reply names the business's zone ("Mon-Fri 9:00 AM-5:00 PM ET").
_ZONE_LABELS = {
    "America/New_York": "ET", "America/Detroit": "ET", "America/Toronto": "ET",
    "America/Indiana/Indianapolis": "ET", "America/Chicago": "CT", "America/Winnipeg": "CT",
    "America/Denver": "MT", "America/Edmonton": "MT", "America/Boise": "MT", "America/Phoenix": "MT",
    "America/Los_Angeles": "PT", "America/Vancouver": "PT", "America/Anchorage": "AKT",
    "Pacific/Honolulu": "HT", "America/Halifax": "AT", "America/St_Johns": "NT",
}  # fmt: skip


class BusinessHoursError(SmsDeskError, ValueError):
    """A business-hours setting that cannot be used; the message names the bad part."""


@dataclass(frozen=True)
class BusinessHours:
    """Weekly opening hours in ``time_zone``, minus ``holidays``.

    ``weekly`` has all seven weekdays (0 = Monday; a closed day has no intervals). An interval
    ending at ``time(0)`` runs to midnight, the end of the day (``datetime.time`` has no 24:00).
    Every method takes and returns aware datetimes; results are in UTC.
    """

    time_zone: ZoneInfo
    weekly: Mapping[int, tuple[tuple[time, time], ...]]
    holidays: frozenset[date]

    def __post_init__(self) -> None:
        object.__setattr__(self, "weekly", MappingProxyType({day: tuple(self.weekly.get(day, ())) for day in range(7)}))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        for day, intervals in self.weekly.items():
            _check_day(day, [(_minute_of(start), _minute_of(end, closing=True)) for start, end in intervals])
        if not any(self.weekly.values()):
            raise BusinessHoursError("the business is never open: give at least one day with hours")

    @classmethod
    def parse(cls, spec: str, time_zone: str, holidays: str = "") -> BusinessHours:
        """``BusinessHours.parse("Mon-Fri 09:00-17:00; Sat 10:00-14:00", "America/New_York",
        "2026-12-25")``; raises :class:`BusinessHoursError` naming what is wrong."""
        zone = _zone(time_zone)
        open_days: dict[int, list[tuple[int, int]]] = {day: [] for day in range(7)}
        closed_days: set[int] = set()
        clauses = [clause.strip() for clause in re.split(r"[;\n]", spec or "") if clause.strip()]
        if not clauses:
            raise BusinessHoursError('business hours are empty: give e.g. "Mon-Fri 09:00-17:00"')
        for clause in clauses:
            if clause.lower() in {"24/7", "24x7"}:
                days, intervals = list(range(7)), [(0, _END_OF_DAY)]
            else:
                match = _CLAUSE.fullmatch(clause)
                if not match:
                    raise BusinessHoursError(
                        f'"{clause}" is not days and hours, like "Mon-Fri 09:00-17:00" or "Sun closed"'
                    )
                days = _parse_days(match["days"], clause)
                if match["hours"].lower() == "closed":
                    closed_days.update(days)
                    continue
                intervals = [_parse_interval(text) for text in match["hours"].split(",")]
            for day in days:
                open_days[day].extend(intervals)
        for day in sorted(closed_days):
            if open_days[day]:
                raise BusinessHoursError(f"{_DAY_LABELS[day]} is given both hours and closed")
        weekly = {day: tuple(_merge(day, intervals)) for day, intervals in open_days.items()}
        if not any(weekly.values()):
            raise BusinessHoursError(f'"{spec.strip()}" is never open: give at least one day with hours')
        return cls(
            zone,
            {day: tuple((_time_of(start), _time_of(end)) for start, end in spans) for day, spans in weekly.items()},
            _parse_holidays(holidays),
        )

    # ------------------------------------------------------------------ open time

    def is_open(self, at: datetime) -> bool:
        moment = as_utc(at, "at")
        day = moment.astimezone(self.time_zone).date()
        return any(
            opening <= moment < closing
            for offset in (-1, 0, 1)
            for opening, closing in self._open_spans(day + timedelta(days=offset))
        )

    def next_opening(self, at: datetime) -> datetime:
        """``at`` itself if the business is open then, else the moment it next opens."""
        return self._next_opening(as_utc(at, "at"), timedelta(days=_SEARCH_DAYS))

    def add_open_minutes(self, start: datetime, minutes: int) -> datetime:
        """The earliest instant by which ``minutes`` of open time have passed since ``start``:
        closed hours, closed days and holidays do not count."""
        if minutes < 0:
            raise ValueError(f"minutes must not be negative, got {minutes}")
        cursor = as_utc(start, "start")
        if minutes == 0:
            return cursor
        remaining = timedelta(minutes=minutes)
        for opening, closing in self._spans_from(cursor):
            begin = max(opening, cursor)
            available = closing - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
            cursor = closing
        raise BusinessHoursError(f"the business does not open for {_SEARCH_DAYS} days (holidays?)")

    def open_minutes_between(self, start: datetime, end: datetime) -> float:
        """Minutes of open time from ``start`` to ``end`` (0 when ``end`` is not later): what
        "business time" means in the analytics."""
        begin, finish = as_utc(start, "start"), as_utc(end, "end")
        total = timedelta()
        if finish <= begin:
            return 0.0
        for opening, closing in self._spans_from(begin):
            if opening >= finish:
                break
            total += min(closing, finish) - max(opening, begin)
        return total.total_seconds() / 60

    def describe(self, at: datetime | None = None) -> str:
        """The weekly hours as a customer reads them: "Mon-Fri 9:00 AM-5:00 PM; Sat 10:00 AM-2:00 PM ET".

        ``at`` only picks the zone's abbreviation for zones without a generic label (e.g. GMT/BST).
        Holidays are not listed.
        """
        minutes = self._minutes
        if all(day == ((0, _END_OF_DAY),) for day in minutes):
            return "24/7"
        by_hours: dict[tuple[tuple[int, int], ...], list[int]] = {}  # same hours -> their days
        for day, intervals in enumerate(minutes):
            if intervals:
                by_hours.setdefault(intervals, []).append(day)
        parts = []
        for intervals, days in by_hours.items():
            hours = ", ".join(
                "all day" if (s, e) == (0, _END_OF_DAY) else f"{_clock(s)}-{_clock(e)}" for s, e in intervals
            )
            parts.append(f"{_day_runs(days)} {hours}")
        return "; ".join(parts) + f" {self._zone_label(at)}"

    # ------------------------------------------------------------------ internals

    @cached_property
    def _minutes(self) -> tuple[tuple[tuple[int, int], ...], ...]:
        """Per weekday, the open intervals in minutes after local midnight (end up to 1440)."""
        return tuple(
            tuple((_minute_of(start), _minute_of(end, closing=True)) for start, end in self.weekly[day])
            for day in range(7)
        )

    def _open_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open intervals of one local calendar day as UTC instants (a holiday has none)."""
        if day in self.holidays:
            return []
        midnight = datetime.combine(day, time())
        spans = []
        for start, end in self._minutes[day.weekday()]:
            opening = wall_clock_instant(midnight + timedelta(minutes=start), self.time_zone)
            closing = wall_clock_instant(midnight + timedelta(minutes=end), self.time_zone)
            if opening < closing:  # an interval entirely inside a DST gap never happens
                spans.append((opening, closing))
        return spans

    def _spans_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open spans that end after ``moment``, in order, until _SEARCH_DAYS pass without one."""
        day = moment.astimezone(self.time_zone).date() - timedelta(days=1)
        idle_days = 0
        while idle_days <= _SEARCH_DAYS:
            spans = [span for span in self._open_spans(day) if span[1] > moment]
            idle_days = 0 if spans else idle_days + 1
            yield from spans
            day += timedelta(days=1)

    def _next_opening(self, moment: datetime, within: timedelta) -> datetime:
        for opening, _closing in self._spans_from(moment):
            if opening <= moment:
                return moment
            if opening - moment <= within:
                return opening
            break
        raise BusinessHoursError(f"the business does not open within {within.days} days of {moment:%Y-%m-%d %H:%M} UTC")

    def zone_label(self, at: datetime | None = None) -> str:
        """The business's zone as customers read it: "ET", "GMT", "(Kolkata time)"."""
        return self._zone_label(at)

    def _zone_label(self, at: datetime | None) -> str:
        key = self.time_zone.key
        if key in _ZONE_LABELS:
            return _ZONE_LABELS[key]
        if at is not None and (abbreviation := at.astimezone(self.time_zone).tzname() or "").isalpha():
            return abbreviation
        return f"({key.rsplit('/', 1)[-1].replace('_', ' ')} time)"


def reply_by(received_at: datetime, hours: BusinessHours, target_minutes: int) -> datetime:
    """The reply-by promise for a complaint received at ``received_at`` (UTC).

    Open now: ``target_minutes`` of open time from now. Closed: the next opening. Raises
    :class:`BusinessHoursError` if that is more than 14 days away (a schedule or target that
    cannot give a promise worth making).
    """
    received = as_utc(received_at, "received_at")
    if hours.is_open(received):
        promise = hours.add_open_minutes(received, target_minutes)
    else:
        promise = hours._next_opening(received, REPLY_BY_HORIZON)
    if promise - received > REPLY_BY_HORIZON:
        raise BusinessHoursError(
            f"{target_minutes} open minutes from {received:%Y-%m-%d %H:%M} UTC end more than "
            f"{REPLY_BY_HORIZON.days} days later: the first-reply target is too long for these hours"
        )
    return promise


def describe_reply_by(
    reply_by: datetime, now: datetime, zone: ZoneInfo, *, zone_label: str | None = None, language: str = "en"
) -> str:
    """The promise in the customer's zone: "by 3:30 PM today", "by 9:00 AM tomorrow",
    "by 9:00 AM Monday" (up to 6 days ahead), "by 9:00 AM on Dec 28" (further, or past).
    With ``zone_label`` (the customer's zone is not known, so ``zone`` is the business's), the
    zone is said as the HOURS reply says it: "by 9:00 AM tomorrow ET".

    Rounded up to the next five minutes, never down. Plain ASCII (GSM-7).
    """
    text = _describe_reply_by(reply_by, now, zone, language)
    return f"{text} {zone_label}" if zone_label else text


def _describe_reply_by(reply_by: datetime, now: datetime, zone: ZoneInfo, language: str = "en") -> str:
    local = _round_up(as_utc(reply_by, "reply_by"), minutes=5).astimezone(zone)
    days = (local.date() - as_utc(now, "now").astimezone(zone).date()).days
    if language != "en":
        from smsdesk.templates import promise_in

        return promise_in(language, local, days)
    clock = _clock(local.hour * 60 + local.minute)
    if days == 0:
        return f"by {clock} today"
    if days == 1:
        return f"by {clock} tomorrow"
    if 1 < days <= 6:
        return f"by {clock} {_DAY_NAMES[local.weekday()].title()}"
    return f"by {clock} on {_MONTHS[local.month - 1]} {local.day}"


# ---------------------------------------------------------------------- parsing helpers


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name.strip())
    except (KeyError, ValueError, OSError, AttributeError):
        raise BusinessHoursError(f'"{name}" is not a time zone: use an IANA name like America/New_York') from None


def _parse_days(text: str, clause: str) -> list[int]:
    days: list[int] = []
    for part in text.split(","):
        ends = [end.strip() for end in re.split(r"[-\u2013]", part)]
        if len(ends) > 2 or not all(ends):
            raise BusinessHoursError(f'"{part.strip()}" in "{clause}" is not a day or a range like Mon-Fri')
        first, last = (_weekday(end, clause) for end in (ends[0], ends[-1]))
        days.extend((first + step) % 7 for step in range((last - first) % 7 + 1))  # Fri-Mon wraps
    return days


def _weekday(word: str, clause: str) -> int:
    token = word.lower().rstrip(".")
    if token == "weds":
        return 2
    for index, name in enumerate(_DAY_NAMES):
        if len(token) >= 3 and name.startswith(token):
            return index
    raise BusinessHoursError(f'unknown day "{word}" in "{clause}" (use Mon, Tue, Wed, Thu, Fri, Sat, Sun)')


def _parse_interval(text: str) -> tuple[int, int]:
    match = _INTERVAL.fullmatch(text.strip())
    if not match:
        raise BusinessHoursError(f'"{text.strip()}" is not opening hours like 09:00-17:00')
    start, end = _parse_clock(match[1], closing=False), _parse_clock(match[2], closing=True)
    if end <= start:
        raise BusinessHoursError(
            f'"{text.strip()}" ends before it starts '
            "(write overnight hours as two days, e.g. 22:00-24:00 and 00:00-06:00)"
        )
    return start, end


def _parse_clock(text: str, *, closing: bool) -> int:
    match = _CLOCK.fullmatch(text)
    hours, minutes = (int(match[1]), int(match[2])) if match else (99, 99)
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not closing)):
        allowed = "00:00 to 24:00" if closing else "00:00 to 23:59"
        raise BusinessHoursError(f'"{text}" is not a time of day ({allowed})')
    return hours * 60 + minutes


def _merge(day: int, intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted; touching intervals joined; overlapping ones refused."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start < merged[-1][1]:
            previous = merged[-1]
            raise BusinessHoursError(
                f"{_DAY_LABELS[day]}: {_hhmm(start)}-{_hhmm(end)} overlaps {_hhmm(previous[0])}-{_hhmm(previous[1])}"
            )
        if merged and start == merged[-1][1]:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _check_day(day: int, intervals: list[tuple[int, int]]) -> None:
    if day not in range(7):
        raise BusinessHoursError(f"weekday {day} is not 0 (Monday) to 6 (Sunday)")
    for start, end in intervals:
        if end <= start:
            raise BusinessHoursError(f"{_DAY_LABELS[day]}: {_hhmm(start)}-{_hhmm(end)} ends before it starts")
    for (_, end), (start, _) in itertools.pairwise(intervals):
        if start < end:
            raise BusinessHoursError(f"{_DAY_LABELS[day]}: intervals must be sorted and must not overlap")


def _parse_holidays(text: str) -> frozenset[date]:
    days = set()
    for item in re.split(r"[,;\s]+", text or ""):
        if not item:
            continue
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", item):
                raise ValueError
            days.add(date.fromisoformat(item))
        except ValueError:
            raise BusinessHoursError(f'holiday "{item}" is not a date like 2026-12-25') from None
    return frozenset(days)


def _day_runs(days: list[int]) -> str:
    """[0, 1, 2, 3, 4, 6] -> "Mon-Fri, Sun"."""
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(_DAY_LABELS[run[0]] + (f"-{_DAY_LABELS[run[-1]]}" if len(run) > 1 else "") for run in runs)


def _minute_of(clock: time, *, closing: bool = False) -> int:
    minutes = clock.hour * 60 + clock.minute
    return _END_OF_DAY if closing and minutes == 0 else minutes


def _time_of(minutes: int) -> time:
    return time(minutes // 60 % 24, minutes % 60)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _clock(minutes: int) -> str:
    """Minutes after midnight as "9:00 AM" (ASCII space: GSM-7 has no narrow no-break space)."""
    if minutes == _END_OF_DAY:
        return "midnight"
    hours, minutes = divmod(minutes, 60)
    return f"{(hours % 12) or 12}:{minutes:02d} {'AM' if hours < 12 else 'PM'}"


def _round_up(moment: datetime, *, minutes: int) -> datetime:
    step = timedelta(minutes=minutes)
    epoch = datetime(1970, 1, 1, tzinfo=moment.tzinfo)
    remainder = (moment - epoch) % step
    return moment if not remainder else moment + (step - remainder)
