"""Replay recorded deliveries through the production path, in process, and report what happened."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.github.webhooks import WebhookError, parse_delivery
from bot.ops.fixtures import Delivery as Recorded
from bot.runtime import ManualClock, Runtime, SystemClock, Worker
from bot.runtime.inspect import RunSummary, list_runs
from bot.settings import Settings

# Stand-in channel for dry runs when no DISCORD_CHANNEL_ID is configured.
DRY_RUN_CHANNEL_ID = 100_000_000_000_000_001
MAX_FAST_FORWARDS = 10_000
# After the last delivery a paced replay lets this much time pass (waits, sleeps, cron ticks).
HORIZON_MS = 7 * 24 * 3600 * 1000
# Version-1 GUIDs count 100 ns steps from 1582-10-15; the Unix epoch is this many steps later.
_GUID_EPOCH = 0x01B21DD213814000
# Between deliveries (unpaced) timers due within this long run at once: a debounced card edit,
# not a reminder due in hours.
TIMER_HORIZON_MS = 60_000


@dataclass
class ReplayReport:
    """What a replay did: deliveries by outcome, runs, Discord actions."""

    deliveries: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    failed: list[RunSummary] = field(default_factory=list)
    runs_ok: int = 0
    actions: int = 0
    elapsed_s: float = 0.0

    def summary(self) -> str:
        """Return the closing line."""
        parts = ", ".join(f"{n} {k}" for k, n in sorted(self.outcomes.items()))
        return (
            f"replayed {self.deliveries} deliveries ({parts}); runs: {self.runs_ok} ok, "
            f"{len(self.failed)} failed; Discord actions: {self.actions}; "
            f"{self.elapsed_s:.2f} s"
        )


async def drain(
    runtime: Runtime, worker: Worker, until_ms: int | None = None, out: TextIO | None = None
) -> None:
    """Run everything, fast-forwarding a manual clock over backoffs and sleeps.

    With `until_ms` (a paced replay), waits, sleeps and cron ticks due by then run too, each
    after a line saying what time it is; without, timers due within `TIMER_HORIZON_MS` do.
    """
    for _ in range(MAX_FAST_FORWARDS):
        await worker.run_until_idle()
        due = await runtime.store.reads.next_due_ms()  # retries: always, as they come
        if due is None and until_ms is not None and isinstance(runtime.clock, ManualClock):
            due = await _next_timer(runtime)
            if due is None or due > until_ms:
                return
            if out is not None:
                print(f"── {_utc(due)} (time passes)", file=out)
        if due is None:
            due = await _next_timer(runtime)  # between deliveries: a debounced card edit
            if due is None or due - runtime.clock.now_ms() > TIMER_HORIZON_MS:
                return
        if isinstance(runtime.clock, ManualClock):
            runtime.clock.set(due)
        else:
            await asyncio.sleep(max(0.0, (due - runtime.clock.now_ms()) / 1000))


async def _next_timer(runtime: Runtime) -> int | None:
    # A claim of nothing (limit 0) answers when the next timer is due: parked runs, debounces.
    batch = await runtime.store.claim(runtime.clock.now_ms(), runtime.options.lease_ms, 0)
    ticks = await runtime.tick_crons()
    found = [t for t in (batch.next_due_ms, ticks) if t is not None]
    return min(found) if found else None


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def delivered_at_ms(delivery_id: str) -> int | None:
    """Return when GitHub sent a delivery, read from its version-1 GUID; None for other ids."""
    try:
        guid = uuid.UUID(delivery_id)
    except ValueError:
        return None
    return (guid.time - _GUID_EPOCH) // 10_000 if guid.version == 1 else None


def time_driven(runtime: Runtime) -> bool:
    """Tell whether some function depends on time passing: cron, cancel_on, throttle.

    A debounce alone does not: its short timers run between deliveries (`TIMER_HORIZON_MS`).
    """
    return any(fn.crons or fn.cancel_on or fn.throttle for fn in runtime.registry)


def _line(index: int, total: int, recorded: Recorded, status: str, runs: int) -> str:
    width = len(str(total))
    what = f"{status} ({runs} run{'s' if runs != 1 else ''})" if status == "queued" else status
    return (
        f"── [{index:>{width}}/{total}] {recorded.source.name}  {recorded.event}  "
        f"{recorded.delivery_id}  → {what}"
    )


class LocalReplay:
    """Feeds deliveries to a runtime on the embedded store and drains it after each one."""

    def __init__(self, runtime: Runtime, out: TextIO, progress: TextIO | None = None) -> None:
        self.runtime = runtime
        self.worker = Worker(runtime, concurrency=8)
        self.out = out
        self.progress = progress
        self.report = ReplayReport()
        # Paced: a dry run of time-driven functions keeps the deliveries' recorded times, so
        # reminders and cron ticks happen between the deliveries they came between. Otherwise
        # time stands still between deliveries (a second pass is all duplicates, say).
        self.paced = isinstance(runtime.clock, ManualClock) and time_driven(runtime)

    def _count(self, outcome: str) -> None:
        self.report.outcomes[outcome] = self.report.outcomes.get(outcome, 0) + 1

    async def run(self, recorded: Sequence[Recorded]) -> ReplayReport:
        """Replay `recorded` in order and return the report."""
        started = time.perf_counter()
        for i, item in enumerate(recorded, 1):
            if getattr(self.out, "gone", False):  # nobody reads the transcript any more
                break
            await self.one(i, len(recorded), item)
            if self.progress and len(recorded) >= 50 and i % 25 == 0:
                print(f"… {i}/{len(recorded)} deliveries", file=self.progress, flush=True)
        if self.paced:
            horizon = self.runtime.clock.now_ms() + HORIZON_MS
            await drain(self.runtime, self.worker, horizon, self.out)
        self.report.deliveries = len(recorded)
        self.report.failed = await list_runs(self.runtime.store, 1_000, failed=True)
        self.report.runs_ok = self.worker.outcomes.get("completed", 0)
        self.report.elapsed_s = time.perf_counter() - started
        return self.report

    async def one(self, index: int, total: int, item: Recorded) -> None:
        """Replay one delivery: let time pass to when it was sent (paced), convert, send, drain."""
        at = delivered_at_ms(item.delivery_id) if self.paced else None
        if at is not None and isinstance(self.runtime.clock, ManualClock):
            await drain(self.runtime, self.worker, at, self.out)
            self.runtime.clock.set(at)
        try:
            delivery = parse_delivery(item.headers, item.body, secret=None)
        except WebhookError as exc:
            self._count("rejected")
            print(_line(index, total, item, f"rejected: {exc}", 0), file=self.out)
            return
        if delivery.is_ping:
            self._count("ping")
            print(_line(index, total, item, f"ping (hook {delivery.hook_id})", 0), file=self.out)
            return
        [result] = await self.runtime.send(
            [delivery.to_event()], meta=[delivery.meta], raw_data=[delivery.raw]
        )
        self._count(result.status)
        print(_line(index, total, item, result.status, len(result.run_ids)), file=self.out)
        await drain(self.runtime, self.worker)


def replay_settings(settings: Settings) -> Settings:
    """Return settings for a local replay: in a dry run, a stand-in default channel if none,
    and no backlinks.

    Only dry runs get one (nothing real is posted there); a scenario's own routing, such as the
    forum scenario's, leaves the other repositories on it. A live replay uses what is configured.
    """
    if settings.discord_token is None:
        # The dry run's stand-in threads exist nowhere: never link GitHub to them.
        settings = settings.model_copy(update={"github_backlink": False})
    if settings.discord_token is None and settings.discord_channel_id is None:
        return settings.model_copy(update={"discord_channel_id": DRY_RUN_CHANNEL_ID})
    return settings


def clock_for(dry_run: bool, recorded: Sequence[Recorded] = ()) -> ManualClock | SystemClock:
    """Fast-forward time in dry runs; real Discord calls keep real time (rate limits are real).

    A dry run's clock starts when the first delivery was sent, if its GUID says (else now).
    """
    if not dry_run:
        return SystemClock()
    first = delivered_at_ms(recorded[0].delivery_id) if recorded else None
    return ManualClock(start_ms=first if first is not None else SystemClock().now_ms())


def default_scenario() -> list[Path]:
    """Return the scenario a bare `prbot replay` plays."""
    from bot.ops.fixtures import scenarios_dir

    return [scenarios_dir() / "pr-lifecycle"]
