"""Time, injectable.

Nothing in smsdesk calls ``datetime.now()``: it asks a :class:`Clock`. Lambda functions use the
process clock (the system clock); tests pass a :class:`ManualClock`; the local stack installs a
ManualClock as the process clock so that ``smsdesk clock advance 24h`` moves every function's
idea of "now" at once.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to. Thread-safe."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime.now(UTC)
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += delta
            return self._now

    def set(self, at: datetime) -> None:
        with self._lock:
            self._now = at.astimezone(UTC)


_process_clock: Clock = SystemClock()


def process_clock() -> Clock:
    """The clock handlers use. Read it when building services, at cold start."""
    return _process_clock


def use_process_clock(clock: Clock) -> None:
    """Replace the process clock (the local stack does this before loading any handler)."""
    global _process_clock
    _process_clock = clock


def to_iso(at: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and a Z: sortable as a string, as stored in the table."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
