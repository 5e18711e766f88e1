"""Declaring durable functions: triggers, retries, concurrency keys and the handler."""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.runtime.events import Event
from bot.runtime.flow import Cancel, Cron, Debounce, KeySpec, Throttle

if TYPE_CHECKING:
    from bot.runtime.context import Context

Handler = Callable[["Context"], Awaitable[Any]]
KeyFn = Callable[[Event], str | None]
Predicate = Callable[[Event], bool]

DEFAULT_RETRIES = 4
# Event names whose triggers are remembered (`Registry.names`).
NAMES_CACHED = 1024


@dataclass(frozen=True)
class Trigger:
    """Fire on events whose name matches `event` (`*` is a wildcard) and, if given, `when`."""

    event: str
    when: Predicate | None = None
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pattern", re.compile(fnmatch.translate(self.event)))

    def names(self, event_name: str) -> bool:
        """Tell whether the trigger's name pattern matches `event_name`."""
        return self._pattern.match(event_name) is not None

    def matches(self, event: Event) -> bool:
        """Tell whether this trigger fires for `event`."""
        if not self._pattern.match(event.name):
            return False
        return self.when is None or bool(self.when(event))


@dataclass(frozen=True)
class Function:
    """A durable function: `handler(ctx)` runs once per matching event, step by step."""

    id: str
    triggers: tuple[Trigger, ...]
    handler: Handler
    retries: int = DEFAULT_RETRIES
    concurrency_key: KeyFn | None = None
    cancel_on: tuple[Cancel, ...] = ()
    debounce: Debounce | None = None
    throttle: Throttle | None = None
    idempotency: KeySpec | None = None
    crons: tuple[Cron, ...] = ()

    def matches(self, event: Event) -> bool:
        """Tell whether any trigger of this function fires for `event`."""
        return any(t.matches(event) for t in self.triggers)

    def key_for(self, event: Event, run_id: str) -> str:
        """Return the run's concurrency key: shared by every function giving the same key."""
        key = self.concurrency_key(event) if self.concurrency_key else None
        return f"key:{key}" if key else f"run:{run_id}"


def function(
    id: str,
    trigger: str | Trigger | Cron | Iterable[str | Trigger | Cron],
    *,
    retries: int = DEFAULT_RETRIES,
    concurrency_key: KeyFn | None = None,
    cancel_on: Iterable[Cancel] = (),
    debounce: Debounce | None = None,
    throttle: Throttle | None = None,
    idempotency: KeySpec | None = None,
) -> Callable[[Handler], Function]:
    """Declare a durable function around an `async def handler(ctx)`."""
    items = [trigger] if isinstance(trigger, str | Trigger | Cron) else list(trigger)
    crons = tuple(t for t in items if isinstance(t, Cron))
    triggers = tuple(
        t if isinstance(t, Trigger) else Trigger(t) for t in items if not isinstance(t, Cron)
    )
    cancels = tuple(cancel_on)

    def wrap(handler: Handler) -> Function:
        return Function(
            id, triggers, handler, retries, concurrency_key, cancels, debounce, throttle,
            idempotency, crons,
        )  # fmt: skip

    return wrap


def run_id_for(event_id: str, function_id: str) -> str:
    """Derive the run id from (event id, function id): one event makes at most one run each."""
    digest = hashlib.blake2b(f"{event_id}\x00{function_id}".encode(), digest_size=12)
    return digest.hexdigest()


class Registry:
    """The functions a process knows, looked up by id and matched against events."""

    def __init__(self, functions: Iterable[Function] = ()) -> None:
        self._by_id: dict[str, Function] = {}
        self._named: dict[str, bool] = {}
        for fn in functions:
            self.add(fn)

    def add(self, fn: Function) -> None:
        """Register `fn`; ids must be unique."""
        if fn.id in self._by_id:
            raise ValueError(f"duplicate function id {fn.id!r}")
        self._by_id[fn.id] = fn
        self._named.clear()

    def get(self, function_id: str) -> Function | None:
        """Return the function with this id, if registered."""
        return self._by_id.get(function_id)

    def names(self, event_name: str) -> bool:
        """Tell whether some function has a trigger for this event name (its `when` aside)."""
        found = self._named.get(event_name)
        if found is None:
            found = any(t.names(event_name) for fn in self._by_id.values() for t in fn.triggers)
            if len(self._named) < NAMES_CACHED:  # names come from senders: keep the cache small
                self._named[event_name] = found
        return found

    def matching(self, event: Event) -> list[Function]:
        """Return the functions triggered by `event`, in registration order."""
        return [fn for fn in self._by_id.values() if fn.matches(event)]

    def __iter__(self) -> Any:
        return iter(self._by_id.values())
