"""When may smsdesk text a customer on its own initiative? Quiet hours and the proactive cap.

A proactive message may go only inside the allowed window (08:00-20:00 by default, never wider
than 08:00-21:00) in *every* zone the number may be in, and at most ``limit`` in any rolling
``period``; :func:`next_send_time` says when it may, and the gateway holds it until then. The
reasoning (several zones, disjoint windows): docs/decisions.md, section 9.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from smsdesk.errors import SmsDeskError
from smsdesk.time_zones import as_utc, wall_clock_instant

EARLIEST = time(8, 0)
LATEST = time(21, 0)
# How far next_allowed looks for an instant allowed in every zone before deciding there is
# none (the windows repeat daily; two days covers a DST change in between).
_COMMON_WINDOW_SEARCH = timedelta(days=2)
_WINDOW = re.compile(r"\s*(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})\s*")


class QuietHoursError(SmsDeskError, ValueError):
    """A quiet-hours setting that is malformed or wider than the law allows."""


@dataclass(frozen=True)
class QuietHours:
    """The window, in the recipient's local time, inside which proactive texts may go out:
    ``start`` <= local time < ``end``."""

    start: time = time(8, 0)
    end: time = time(20, 0)

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise QuietHoursError(f"{name} must be a local time of day, got {value!r}")
        if self.start < EARLIEST:
            raise QuietHoursError(f"the window may not open before 08:00 (got {self.start:%H:%M})")
        if self.end > LATEST:
            raise QuietHoursError(f"the window may not close after 21:00 (got {self.end:%H:%M})")
        if self.start >= self.end:
            raise QuietHoursError(f"the window must open before it closes (got {self.start:%H:%M}-{self.end:%H:%M})")

    @classmethod
    def parse(cls, spec: str) -> QuietHours:
        """``QuietHours.parse("08:00-20:00")``."""
        match = _WINDOW.fullmatch(spec or "")
        if not match:
            raise QuietHoursError(f'"{spec}" is not a window like 08:00-20:00')
        hours_start, minutes_start, hours_end, minutes_end = (int(group) for group in match.groups())
        try:
            start, end = time(hours_start, minutes_start), time(hours_end, minutes_end)
        except ValueError:
            raise QuietHoursError(f'"{spec.strip()}" has a time that does not exist') from None
        return cls(start, end)

    def allows(self, at: datetime, zones: Sequence[ZoneInfo]) -> bool:
        """Whether ``at`` is inside the window in every one of ``zones``."""
        moment = as_utc(at, "at")
        return all(self._inside(moment, zone) for zone in _required(zones))

    def next_allowed(self, at: datetime, zones: Sequence[ZoneInfo]) -> datetime:
        """The earliest instant >= ``at`` inside the window in every zone (UTC).

        If the zones' windows have no instant in common, the earliest instant >= ``at`` inside
        the window of the first (primary) zone: see the module's docstring.
        """
        start = as_utc(at, "at")
        zones = _required(zones)
        candidate = start
        while candidate - start <= _COMMON_WINDOW_SEARCH:
            # Each zone's next allowed instant is >= candidate, and equals it only if the zone
            # allows it now. Nothing before the latest of them is allowed everywhere.
            latest = max(self._next_in(candidate, zone) for zone in zones)
            if latest == candidate:
                return candidate
            candidate = latest
        return self._next_in(start, zones[0])

    def _inside(self, moment: datetime, zone: ZoneInfo) -> bool:
        return self.start <= moment.astimezone(zone).time() < self.end

    def _next_in(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """The earliest instant >= ``moment`` inside the window in ``zone``.

        Outside the window, that is the next time the zone's clocks reach ``start``, computed
        from its wall clock, so a DST change in between is accounted for. (No zone changes its
        clocks between 08:00 and 21:00; if one did, its second reading of ``start`` is tried
        too, and the answer is always checked against the window.)
        """
        if self._inside(moment, zone):
            return moment
        day = moment.astimezone(zone).date()
        for offset in range(3):
            local_start = datetime.combine(day + timedelta(days=offset), self.start)
            for fold in (0, 1):
                opening = wall_clock_instant(local_start, zone, fold=fold)
                if opening > moment and self._inside(opening, zone):
                    return opening
        raise QuietHoursError(f"{zone.key} never reaches {self.start:%H:%M} after {moment:%Y-%m-%d %H:%M} UTC")


@dataclass(frozen=True)
class ProactiveCap:
    """At most ``limit`` proactive messages per number in any rolling ``period``."""

    limit: int = 3
    period: timedelta = timedelta(hours=24)

    def __post_init__(self) -> None:
        if not isinstance(self.limit, int) or self.limit < 1:
            raise QuietHoursError(f"the proactive cap must allow at least one message, got {self.limit!r}")
        if self.period <= timedelta(0):
            raise QuietHoursError(f"the proactive cap's period must be positive, got {self.period}")

    def recent(self, sent_at: Sequence[datetime], now: datetime) -> list[datetime]:
        """The sends that still count at ``now`` (less than ``period`` old), oldest first.

        Sends recorded after ``now`` count too. The rest can be pruned from storage.
        """
        cutoff = as_utc(now, "now") - self.period
        return sorted(sent for sent in sent_at if as_utc(sent, "sent_at") > cutoff)

    def remaining(self, sent_at: Sequence[datetime], now: datetime) -> int:
        """How many more proactive messages may go at ``now``."""
        return max(0, self.limit - len(self.recent(sent_at, now)))

    def next_slot(self, sent_at: Sequence[datetime], now: datetime) -> datetime:
        """``now`` if the cap allows one more message, else when the oldest counted send(s)
        leave the period and one more fits (UTC)."""
        recent = self.recent(sent_at, now)
        if len(recent) < self.limit:
            return as_utc(now, "now")
        # recent[0 .. len-limit] must leave for the count to drop to limit - 1.
        return as_utc(recent[len(recent) - self.limit], "sent_at") + self.period


def next_send_time(
    now: datetime, zones: Sequence[ZoneInfo], sent_at: Sequence[datetime], quiet: QuietHours, cap: ProactiveCap
) -> datetime:
    """The earliest instant >= ``now`` (UTC) at which a proactive message respects both the quiet
    hours in every zone and the proactive cap. ``now`` itself means "send now"."""
    candidate = as_utc(now, "now")
    while True:
        # The cap only loosens as time passes and the window is re-checked after each move, so
        # this settles in a step or two.
        allowed = quiet.next_allowed(cap.next_slot(sent_at, candidate), zones)
        if allowed == candidate:
            return candidate
        candidate = allowed


def _required(zones: Sequence[ZoneInfo]) -> tuple[ZoneInfo, ...]:
    zones = tuple(zones)
    if not zones:
        raise ValueError("at least one time zone is needed")
    return zones
