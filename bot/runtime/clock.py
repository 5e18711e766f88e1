"""Clocks: the system clock in production, a manual one for tests and fast-forward replays."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Tells the time in milliseconds since the epoch."""

    def now_ms(self) -> int:
        """Return the current time in milliseconds."""


class SystemClock:
    """Wall-clock time."""

    def now_ms(self) -> int:
        """Return the current wall-clock time in milliseconds."""
        return time.time_ns() // 1_000_000


class ManualClock:
    """A clock that moves only when told (tests, and replays that skip waiting)."""

    def __init__(self, start_ms: int = 1_700_000_000_000) -> None:
        self._now = start_ms

    def now_ms(self) -> int:
        """Return the current manual time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds`."""
        self._now += int(seconds * 1000)

    def set(self, now_ms: int) -> None:
        """Jump to `now_ms` (never backwards)."""
        self._now = max(self._now, now_ms)
