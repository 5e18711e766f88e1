"""Flow control of functions: cancel_on, debounce, throttle, idempotency and cron triggers.

Pure declarations and the dotted-path helpers the planner and `wait_for_event` share. A path is
read from the event envelope: `data.pull_request.number` is `event.data["pull_request"]["number"]`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from bot.runtime.events import Event

KeyFn = Callable[[Event], str | None]
KeySpec = KeyFn | str
Match = Callable[[Event, Event], bool]

# Paths become parts of Redis key names: keep them to plain identifiers.
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$")
_EXACT_INT = 10**15  # below this a JSON number is an exact integer in Lua's doubles too


def check_path(path: str) -> str:
    """Return `path` if it is a valid dotted path, else raise ValueError."""
    if not _PATH.match(path):
        raise ValueError(f"invalid dotted path {path!r}")
    return path


def value_at(event: Event, path: str) -> object:
    """Return the value at the dotted `path` of the event envelope, None when absent."""
    head, _, rest = path.partition(".")
    value: object = event.data if head == "data" else getattr(event, head, None)
    for part in rest.split(".") if rest else ():
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def match_key(value: object) -> str | None:
    """Return the comparable text of a scalar (None for others), exactly as the Lua side does."""
    if isinstance(value, bool):
        return "b:true" if value else "b:false"
    if isinstance(value, str):
        return "s:" + value
    if isinstance(value, int | float):
        number = float(value)
        if number.is_integer() and abs(number) < _EXACT_INT:
            return f"n:{int(number)}"
        return f"n:{number:.17g}"
    return None


def key_of(spec: KeySpec | None, event: Event) -> str | None:
    """Return the key text `spec` (a callable or a dotted path) gives for `event`."""
    if spec is None:
        return None
    if callable(spec):
        key = spec(event)
        return None if key is None else str(key)
    return match_key(value_at(event, spec))


@dataclass(frozen=True)
class Cancel:
    """Cancel a run when an `event` arrives whose `match` path equals the run trigger's.

    With `match=None` any later event of that name cancels the run.
    """

    event: str
    match: str | None = None

    def __post_init__(self) -> None:
        if self.match is not None:
            check_path(self.match)


@dataclass(frozen=True)
class Debounce:
    """Run once with the last event of a burst: `period_s` after the last, `max_wait_s` at most."""

    period_s: float
    key: KeySpec | None = None
    max_wait_s: float | None = None

    def __post_init__(self) -> None:
        if self.period_s <= 0 or (self.max_wait_s is not None and self.max_wait_s <= 0):
            raise ValueError("debounce periods must be positive")


@dataclass(frozen=True)
class Throttle:
    """Start at most `limit` runs per `period_s` (per key); later ones wait their turn in order."""

    limit: int
    period_s: float
    key: KeySpec | None = None

    def __post_init__(self) -> None:
        if self.limit < 1 or self.period_s <= 0:
            raise ValueError("throttle needs limit >= 1 and a positive period")


@dataclass(frozen=True)
class Cron:
    """Trigger on a 5-field cron schedule `expr`, read in the IANA time zone `tz`."""

    expr: str
    tz: str = "UTC"

    def __post_init__(self) -> None:
        if not croniter.is_valid(self.expr):
            raise ValueError(f"invalid cron expression {self.expr!r}")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.tz!r}") from exc

    def last_tick_ms(self, now_ms: int) -> int:
        """Return the latest tick at or before `now_ms`."""
        start = datetime.fromtimestamp((now_ms + 1) / 1000, ZoneInfo(self.tz))
        return int(croniter(self.expr, start).get_prev(float) * 1000)

    def next_tick_ms(self, now_ms: int) -> int:
        """Return the first tick after `now_ms`."""
        start = datetime.fromtimestamp(now_ms / 1000, ZoneInfo(self.tz))
        return int(croniter(self.expr, start).get_next(float) * 1000)
