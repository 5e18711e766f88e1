"""The runtime: turns events into runs (atomically with dedup) and hands out workers."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from bot.runtime.batching import EnqueueBatcher
from bot.runtime.clock import Clock, SystemClock
from bot.runtime.events import FUNCTION_FAILED, Event
from bot.runtime.functions import Function, Registry, run_id_for
from bot.runtime.observer import Observer
from bot.runtime.policy import Backoff
from bot.runtime.store import Enqueue, PlannedRun, Store

if TYPE_CHECKING:
    from bot.runtime.worker import Worker

log = logging.getLogger(__name__)

Status = Literal["queued", "duplicate", "ignored"]
_STATUS: dict[int, Status] = {0: "duplicate", 1: "queued", 2: "ignored"}


@dataclass(frozen=True)
class SendResult:
    """What became of one sent event: queued (runs made), duplicate, or ignored (no function)."""

    event_id: str
    status: Status
    run_ids: tuple[str, ...]


@dataclass(frozen=True)
class RuntimeOptions:
    """Tuning of the runtime; the defaults suit production."""

    lease_ms: int = 30_000
    backoff: Backoff = field(default_factory=Backoff)
    max_abandoned: int = 5
    idle_poll_ms: int = 1_000


class Runtime:
    """Events in, runs out: `send` stores and enqueues; `worker()` executes."""

    def __init__(
        self,
        store: Store,
        functions: Iterable[Function],
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        options: RuntimeOptions | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.store = store
        self.registry = Registry(functions)
        self.clock = clock or SystemClock()
        self.rng = rng or random.Random()
        self.options = options or RuntimeOptions()
        self.observer = observer or Observer()
        self.wakeup = asyncio.Event()
        self.batcher = EnqueueBatcher(store, self.clock)

    def plan(
        self,
        event: Event,
        meta: Mapping[str, str] | None = None,
        replay: bool = False,
        raw_data: str | None = None,
    ) -> Enqueue:
        """Return what storing `event` means: its record and one run per matching function.

        `raw_data`, when given, is the JSON text `event.data` was parsed from: it is stored as it
        is rather than serialised again (a webhook payload is tens of kilobytes).
        """
        runs = []
        for fn in self.registry.matching(event):
            run_id = run_id_for(event.id, fn.id)
            runs.append(PlannedRun(run_id, fn.id, fn.key_for(event, run_id)))
        return Enqueue(event.id, _record(event, meta, raw_data), runs, not replay, replay)

    async def send(
        self,
        events: Sequence[Event],
        *,
        meta: Sequence[Mapping[str, str] | None] | None = None,
        replay: bool = False,
        raw_data: Sequence[str | None] | None = None,
    ) -> list[SendResult]:
        """Store and enqueue `events` in one atomic step; a repeated id within 24 h does nothing."""
        metas = list(meta) if meta is not None else [None] * len(events)
        raws = list(raw_data) if raw_data is not None else [None] * len(events)
        items = [self.plan(e, m, replay, r) for e, m, r in zip(events, metas, raws, strict=True)]
        codes = await self.store.enqueue(items, self.clock.now_ms())
        if any(code == 1 for code in codes):
            self.wakeup.set()
        return [
            SendResult(item.event_id, _STATUS[code], tuple(r.run_id for r in item.runs))
            for item, code in zip(items, codes, strict=True)
        ]

    async def send_one(
        self, event: Event, meta: Mapping[str, str] | None = None, raw_data: str | None = None
    ) -> SendResult:
        """Store and enqueue one event like `send`, in one store call with concurrent senders."""
        item = self.plan(event, meta, False, raw_data)
        code = await self.batcher.enqueue(item)
        if code == 1:
            self.wakeup.set()
        return SendResult(item.event_id, _STATUS[code], tuple(r.run_id for r in item.runs))

    def failure_events(self, fn: Function, run_id: str, error: str, event: Event) -> list[Event]:
        """Return the `prbot/function.failed` event for a failed run (none for failure handlers)."""
        if event.name == FUNCTION_FAILED:
            return []  # a failing failure handler must not feed itself
        data = {"function_id": fn.id, "run_id": run_id, "error": error}
        data["event"] = event.model_dump(mode="json")  # type: ignore[assignment]
        return [Event(name=FUNCTION_FAILED, id=f"failed-{run_id}", data=data)]

    def worker(self, concurrency: int = 32) -> Worker:
        """Return a worker that executes this runtime's runs."""
        from bot.runtime.worker import Worker

        return Worker(self, concurrency)


def _record(event: Event, meta: Mapping[str, str] | None, raw_data: str | None) -> str:
    """Return the stored record of an event: its envelope and the delivery meta, as JSON."""
    compact = (",", ":")
    tail = ',"meta":' + json.dumps(dict(meta or {}), separators=compact) + "}"
    if raw_data is None:
        return '{"event":' + json.dumps(event.model_dump(mode="json"), separators=compact) + tail
    head = json.dumps(event.model_dump(mode="json", exclude={"data"}), separators=compact)
    return '{"event":' + head[:-1] + ',"data":' + raw_data + "}" + tail
