"""Time for the fake Discord: a clock tests can push forward, and snowflake ids that follow it."""

from __future__ import annotations

import time
from datetime import UTC, datetime

# https://discord.com/developers/docs/reference#snowflakes
DISCORD_EPOCH_MS = 1_420_070_400_000


class FakeClock:
    """Wall-clock seconds that follow real time and that tests can push forward instantly."""

    def __init__(self, start: float | None = None) -> None:
        self._start = time.time() if start is None else start
        self._origin = time.monotonic()
        self._offset_s = 0.0

    def now(self) -> float:
        """Return the current fake time as epoch seconds."""
        return self._start + (time.monotonic() - self._origin) + self._offset_s

    def advance(self, seconds: float) -> None:
        """Jump forward by ``seconds`` without waiting."""
        if seconds < 0:
            raise ValueError("the fake clock never goes back")
        self._offset_s += seconds


def as_datetime(ts: float) -> datetime:
    """Return epoch seconds as an aware datetime, at the microsecond precision Discord shows."""
    return datetime.fromtimestamp(ts, UTC)


def iso(ts: float) -> str:
    """Format epoch seconds as the ISO 8601 timestamp Discord returns."""
    return as_datetime(ts).isoformat()


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 timestamp (as discord.py sends in ``before``); naive means UTC."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class Snowflakes:
    """Make strictly increasing snowflake ids whose timestamp part follows the fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        self._clock = clock
        self._last = 0

    def next(self) -> int:
        """Return a fresh id."""
        ms = int(self._clock.now() * 1000) - DISCORD_EPOCH_MS
        self._last = max(ms << 22 | 1 << 17, self._last + 1)
        return self._last
