"""The local stack's clock: real time plus an offset that only grows.

Time flows as usual (messages get distinct timestamps, Twilio's stand-in dates what it sends),
and ``smsdesk clock advance 24h`` adds to the offset: every function, the scheduler stand-in
and the Twilio stand-in see the new "now" at once, so a follow-up due tomorrow fires in
seconds. ``--start`` sets where the local day begins (tests start on a known Monday morning).
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>[smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
LONGEST_JUMP = timedelta(days=365)  # further is a typo, and would run every schedule of the year


def parse_duration(text: str) -> timedelta:
    """``"90m"``, ``"30h"``, ``"2d"``, ``"1d12h"`` -> a timedelta; anything else is a ValueError."""
    compact = text.strip().lower().replace(" ", "")
    parts = list(_DURATION.finditer(compact))
    if not parts or "".join(p.group(0) for p in parts) != compact:
        raise ValueError(f"{text!r} is not a duration like 90m, 30h or 2d")
    total = timedelta()
    try:
        for part in parts:
            total += timedelta(**{_UNITS[part.group("unit")]: float(part.group("amount"))})
    except OverflowError:
        total = timedelta.max
    if total <= timedelta(0):
        raise ValueError("a duration must be positive")
    if total > LONGEST_JUMP:
        raise ValueError(f"{text!r} is more than a year: the local clock moves at most 365d at a time")
    return total


class TravelClock:
    """A :class:`smsdesk.clock.Clock` that can be moved forward, never back."""

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        if start is not None:
            if start.tzinfo is None:
                raise ValueError("the start time needs a time zone (e.g. 2026-11-23T15:00:00Z)")
            self._offset = start.astimezone(UTC) - datetime.now(UTC)

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> datetime:
        if delta <= timedelta(0):
            raise ValueError("time only moves forward")
        with self._lock:
            self._offset += delta
            return datetime.now(UTC) + self._offset
