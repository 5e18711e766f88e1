"""The periodic backfill inside `prbot serve`: at start, then every BACKFILL_INTERVAL.

However many processes run it, one backfill runs at a time (a store lock) and at most one per
interval (the last run's time is in the store). Each run looks back to shortly before the last
one that finished, so an outage of prbot heals itself once it is back (GitHub keeps 3 days).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator

from bot.github.auth import Sleep
from bot.github.connect import backfill_hook, backfill_problem, open_github
from bot.github.deliveries import KEPT_S, Backfill, Summary
from bot.runtime import Clock, PrbotError, Store, SystemClock
from bot.settings import Settings
from bot.web.metrics import Metrics

log = logging.getLogger(__name__)

LOCK = "backfill"
STATE = ("backfill", "state")
LOCK_MIN_MS = 600_000
EARLY = 0.9  # a tick this close to the interval counts as due (timers are not exact)


def lookback_s(now_ms: int, last_ok_ms: int | None, interval_s: float) -> float:
    """Return how far back to look: past the last good run by two intervals, at most 3 days."""
    if last_ok_ms is None:
        return float(KEPT_S)
    return min(float(KEPT_S), (now_ms - last_ok_ms) / 1000 + 2 * interval_s)


class BackfillLoop:
    """Run `Backfill` now and every `interval_s`, one process at a time."""

    def __init__(
        self,
        backfill: Backfill,
        store: Store,
        metrics: Metrics,
        interval_s: float,
        *,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.backfill = backfill
        self.store = store
        self.metrics = metrics
        self.interval_s = interval_s
        self.clock = clock
        self.sleep = sleep

    async def run_forever(self) -> None:
        """Tick now, then after every interval, until cancelled."""
        while True:
            try:
                await self.tick()
            except PrbotError as exc:  # the store is away: try again next interval
                log.warning("backfill skipped: %s", exc)
            await self.sleep(self.interval_s)

    async def tick(self) -> Summary | None:
        """Run one backfill if it is due and no other process runs one; return its summary."""
        holder = uuid.uuid4().hex
        ttl_ms = max(LOCK_MIN_MS, int(self.interval_s * 1000))
        if not await self.store.data.lock(LOCK, holder, ttl_ms):
            return None
        try:
            state = await self.store.data.get(*STATE)
            now_ms = self.clock.now_ms()
            last_run = int(state["last_run_ms"]) if "last_run_ms" in state else None
            if last_run is not None and now_ms - last_run < EARLY * self.interval_s * 1000:
                return None
            last_ok = int(state["last_ok_ms"]) if "last_ok_ms" in state else None
            return await self._run(now_ms, lookback_s(now_ms, last_ok, self.interval_s))
        finally:
            await self.store.data.unlock(LOCK, holder)

    async def _run(self, now_ms: int, since_s: float) -> Summary | None:
        fields = {"last_run_ms": str(now_ms)}
        try:
            summary = await self.backfill.run(since_s)
        except PrbotError as exc:
            log.warning("backfill failed: %s", exc)
            self.metrics.record_backfill_run("failed", now_ms / 1000)
            await self.store.data.update(*STATE, fields)
            return None
        ok = summary.stopped is None and not summary.failed
        if ok:
            fields["last_ok_ms"] = str(now_ms)
        await self.store.data.update(*STATE, fields)
        self.metrics.record_backfill(
            seen=summary.deliveries,
            missed=len(summary.missed),
            redelivered=summary.redelivered,
            failed=len(summary.failed),
        )
        self.metrics.record_backfill_run("ok" if ok else "partial", now_ms / 1000)
        level = logging.INFO if summary.missed or not ok else logging.DEBUG
        log.log(
            level,
            "backfill looked back %.0f s: %d deliveries, %d missed, %d redelivered, %d failed%s",
            since_s, summary.deliveries, len(summary.missed), summary.redelivered,
            len(summary.failed), f"; stopped: {summary.stopped}" if summary.stopped else "",
        )  # fmt: skip
        return summary


@contextlib.asynccontextmanager
async def periodic_backfill(
    settings: Settings,
    store: Store,
    metrics: Metrics,
    *,
    clock: Clock | None = None,
    sleep: Sleep = asyncio.sleep,
) -> AsyncIterator[BackfillLoop | None]:
    """Yield the backfill loop the settings allow (None, logged, when they do not)."""
    interval_s, hook = settings.backfill_interval_s, backfill_hook(settings)
    problem = backfill_problem(settings)
    if interval_s is None or problem is not None or hook is None:
        log.info("periodic backfill off: %s", problem or "BACKFILL_INTERVAL is off")
        yield None
        return
    clock = clock or SystemClock()
    door = open_github(settings, store, clock=clock, sleep=sleep)
    assert door is not None
    try:
        backfill = Backfill(door.hooks, hook, store, clock, sleep)
        yield BackfillLoop(backfill, store, metrics, interval_s, clock=clock, sleep=sleep)
    finally:
        await door.close()
