"""The runtime: turns events into runs, stored atomically with dedup. Workers execute them."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterable, Mapping, Sequence

from bot.runtime.clock import Clock, SystemClock
from bot.runtime.events import Event
from bot.runtime.functions import Function
from bot.runtime.observer import Observer
from bot.runtime.options import RuntimeOptions
from bot.runtime.planner import STATUS, Planner, SendResult
from bot.runtime.store import Store

log = logging.getLogger(__name__)


class Runtime:
    """Events in, runs out: `send` stores and enqueues; a `Worker(runtime)` executes."""

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
        self.planner = Planner(functions)
        self.registry = self.planner.registry
        self.clock = clock or SystemClock()
        self.rng = rng or random.Random()
        self.options = options or RuntimeOptions()
        self.observer = observer or Observer()
        self.wakeup = asyncio.Event()

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
        plan = self.planner.plan
        items = [plan(e, m, replay, r) for e, m, r in zip(events, metas, raws, strict=True)]
        codes = await self.store.enqueue(items, self.clock.now_ms())
        if any(code == 1 for code in codes):
            self.wakeup.set()
        return [
            SendResult(item.event_id, STATUS[code], tuple(r.run_id for r in item.runs))
            for item, code in zip(items, codes, strict=True)
        ]
