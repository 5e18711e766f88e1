"""The runtime: turns events into runs, stored atomically with dedup. Workers execute them."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterable, Mapping, Sequence

from bot.runtime.batching import accept_batcher, enqueue_batcher
from bot.runtime.clock import Clock, SystemClock
from bot.runtime.errors import StoreUnavailableError
from bot.runtime.events import Event, now_ms
from bot.runtime.functions import Function
from bot.runtime.observer import Observer
from bot.runtime.options import RuntimeOptions
from bot.runtime.planner import STATUS, Planner, SendResult, accepted_record, parse_record
from bot.runtime.store import Accept, Enqueue, Store

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
        self._cron_due: dict[str, int] = {}
        self.batcher = enqueue_batcher(store, self.clock)
        self.accepts = accept_batcher(store, self.clock)

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
        result = await self.store.enqueue(items, self.clock.now_ms())
        if any(code == 1 for code in result.codes):
            self.wakeup.set()
        if result.cancelled:
            await self._send_cancelled()
        return [
            SendResult(item.event_id, STATUS[code], tuple(r.run_id for r in item.runs))
            for item, code in zip(items, result.codes, strict=True)
        ]

    async def send_one(
        self, event: Event, meta: Mapping[str, str] | None = None, raw_data: str | None = None
    ) -> SendResult:
        """Store and enqueue one event like `send`, in one store call with concurrent senders."""
        item = self.planner.plan(event, meta, False, raw_data)
        code, cancelled = await self.batcher.send(item)
        if code == 1:
            self.wakeup.set()
        if cancelled:
            await self._send_cancelled()
        return SendResult(item.event_id, STATUS[code], tuple(r.run_id for r in item.runs))

    async def accept(
        self, name: str, event_id: str, raw_data: bytes | str, meta: Mapping[str, str]
    ) -> SendResult:
        """Record a delivery and put it in the inbox, deduplicated, in one atomic store call.

        `raw_data` is the payload's JSON text, stored as it came: nothing decodes it here and
        no function's code runs (a worker plans the runs, in arrival order: `plan_inbox`). An
        event no function triggers and nothing waits for is only recorded (`ignored`).
        """
        record = accepted_record(name, event_id, now_ms(), raw_data, meta)
        item = Accept(event_id, name, record, self.registry.names(name))
        code, _ = await self.accepts.send(item)
        return SendResult(event_id, "queued" if code == 1 else STATUS[code], ())

    async def plan_inbox(self, limit: int = 32) -> int:
        """Plan the runs of the oldest accepted deliveries, in their order; return how many.

        Workers call this when a claim says deliveries wait. Two workers may plan the same
        ones: the store takes each from the inbox's head only, so one plan wins and the other
        is dropped. A record that does not parse makes no run and is logged.
        """
        pending = await self.store.reads.inbox(limit)
        items: list[Enqueue] = []
        failures: list[Event] = []
        for event_id, raw in pending:
            event = parse_record(raw) if raw else None
            if event is None:
                log.error("accepted event %s has no readable record: no run planned", event_id)
                items.append(Enqueue(event_id, "", [], False, False, "", inbox=True))
                continue
            item, failed = self.planner.plan_accepted(event)
            items.append(item)
            failures += failed
        if not items:
            return 0
        # The failures go in the same atomic call: planned once, reported once.
        items += [self.planner.plan(failure) for failure in failures]
        result = await self.store.enqueue(items, self.clock.now_ms())
        planned = sum(1 for code in result.codes[: len(pending)] if code != 4)
        self.wakeup.set()
        if result.cancelled:
            await self._send_cancelled()
        return planned

    async def _send_cancelled(self) -> None:
        """Send the cancelled events a store call just made; a worker sends them if this fails."""
        try:
            await self.flush_cancelled()
        except StoreUnavailableError as exc:  # the events are stored; a worker sends them
            log.warning("cancelled events not sent yet: %s", exc)

    async def flush_cancelled(self, limit: int = 100) -> int:
        """Send the `prbot/function.cancelled` events of runs cancelled since; return how many."""
        run_ids = await self.store.control.outbox(limit)
        if not run_ids:
            return 0
        states = await self.store.reads.run_states(run_ids)
        records = await self.store.reads.event_records([s.get("event", "") for s in states])
        planned = []
        for run_id, state, raw in zip(run_ids, states, records, strict=True):
            reason = state.get("cancelled_by", "")
            event = self.planner.cancelled_event(
                state.get("fn", "?"), run_id, reason, parse_record(raw) if raw else None
            )
            if event is not None:
                planned.append(self.planner.plan(event))
        taken = await self.store.control.flush(run_ids, planned, self.clock.now_ms())
        functions = {rid: st.get("fn", "?") for rid, st in zip(run_ids, states, strict=True)}
        for run_id in taken:
            self.observer.run_finished(functions[run_id], "cancelled")
        self.wakeup.set()
        return len(taken)

    async def tick_crons(self) -> int | None:
        """Make the run of each cron tick now due (once across processes); return the next tick.

        Only the latest tick at or before now runs: after downtime the missed ones run once.
        """
        now = self.clock.now_ms()
        soonest: int | None = None
        for fn in self.registry:
            for cron in fn.crons:
                key = self.store.keys.cron(fn.id, cron.expr, cron.tz)
                due = self._cron_due.get(key)
                if due is None or due <= now:
                    tick = cron.last_tick_ms(now)
                    event = self.planner.cron_tick(fn, cron, tick)
                    due = self._cron_due[key] = cron.next_tick_ms(now)
                    keep_ms = due - tick + self.store.limits.cron_idle_ms
                    if await self.store.control.cron_tick(key, tick, keep_ms, event, now):
                        log.info("cron tick %d of %s claimed", tick, fn.id)
                        self.wakeup.set()
                soonest = due if soonest is None else min(soonest, due)
        return soonest
