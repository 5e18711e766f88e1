"""Replay recorded deliveries through the production path, in process, and report what happened."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
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


async def next_timer_ms(runtime: Runtime) -> int | None:
    """Return when the next queued run or timer (a debounced run, say) is due, None when idle.

    A claim of nothing answers exactly that (and fires what is due); the store has no read
    of its timers of its own.
    """
    batch = await runtime.store.claim(runtime.clock.now_ms(), runtime.options.lease_ms, 0)
    return batch.next_due_ms


async def drain(runtime: Runtime, worker: Worker) -> None:
    """Run everything, fast-forwarding a manual clock over backoffs, sleeps and debounces.

    Deliveries replay seconds apart: timers further than `TIMER_HORIZON_MS` ahead (a reminder
    due in hours) are left for later, as they would be between real deliveries.
    """
    for _ in range(MAX_FAST_FORWARDS):
        await worker.run_until_idle()
        due = await runtime.store.reads.next_due_ms()
        if due is None:
            due = await next_timer_ms(runtime)
            if due is None or due - runtime.clock.now_ms() > TIMER_HORIZON_MS:
                return
        if isinstance(runtime.clock, ManualClock):
            runtime.clock.set(due)
        else:
            await asyncio.sleep(max(0.0, (due - runtime.clock.now_ms()) / 1000))


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
        self.report.deliveries = len(recorded)
        self.report.failed = await list_runs(self.runtime.store, 1_000, failed=True)
        self.report.runs_ok = self.worker.outcomes.get("completed", 0)
        self.report.elapsed_s = time.perf_counter() - started
        return self.report

    async def one(self, index: int, total: int, item: Recorded) -> None:
        """Replay one delivery: convert, send, drain."""
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


def clock_for(dry_run: bool) -> ManualClock | SystemClock:
    """Fast-forward time in dry runs; real Discord calls keep real time (rate limits are real)."""
    return ManualClock(start_ms=SystemClock().now_ms()) if dry_run else SystemClock()


def default_scenario() -> list[Path]:
    """Return the scenario a bare `prbot replay` plays."""
    from bot.ops.fixtures import scenarios_dir

    return [scenarios_dir() / "pr-lifecycle"]
