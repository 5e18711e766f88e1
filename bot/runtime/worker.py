"""Workers: claim due runs, execute them concurrently, keep their leases alive, stop gracefully."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.runtime.errors import StoreUnavailableError
from bot.runtime.executor import Execution, Services
from bot.runtime.runtime import Runtime
from bot.runtime.store import Claim

log = logging.getLogger(__name__)


class Worker:
    """Executes runs of one runtime, up to `concurrency` at a time, in this process."""

    def __init__(self, runtime: Runtime, concurrency: int = 32) -> None:
        self.rt = runtime
        self.services = Services(
            runtime.store, runtime.planner, runtime.clock, runtime.rng, runtime.options,
            runtime.observer, runtime.send,
        )  # fmt: skip
        self.concurrency = concurrency
        self.outcomes: dict[str, int] = {}
        self._inflight: dict[asyncio.Task[str], Claim] = {}
        # After cancelling on stop, how long tasks get to finish before we stop waiting on them.
        self.cancel_grace_s = 5.0
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    @property
    def inflight(self) -> int:
        """How many runs this worker is executing now."""
        return len(self._inflight)

    async def run_until_idle(self, max_rounds: int = 100_000) -> int:
        """Execute all that is due by the runtime's clock until nothing is; return the count."""
        done = 0
        for _ in range(max_rounds):
            await self.rt.tick_crons()
            batch = await self.rt.store.claim(
                self.rt.clock.now_ms(), self.rt.options.lease_ms, self.concurrency
            )
            sent = await self.rt.flush_cancelled() if batch.cancelled_pending else 0
            sent += await self.rt.plan_inbox() if batch.accepted_pending else 0
            if not batch.claims:
                if sent:
                    continue  # the cancelled events, or the deliveries planned, made runs
                return done
            outcomes = await asyncio.gather(*(self._execute(c) for c in batch.claims))
            done += len(outcomes)
        return done

    async def _execute(self, claim: Claim) -> str:
        outcome = await Execution(self.services, claim).execute()
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        return outcome

    async def start(self) -> None:
        """Start claiming and executing in the background."""
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self._loop(), name="worker-loop"),
            asyncio.create_task(self._heartbeat(), name="worker-heartbeat"),
        ]
        if not self.rt.store.embedded:
            self._tasks.append(asyncio.create_task(self._listen(), name="worker-wake"))

    async def stop(self, timeout_s: float = 25.0) -> None:
        """Stop claiming, let runs in flight finish up to `timeout_s`, release the rest."""
        self._stopping.set()
        self.rt.wakeup.set()
        if self._inflight:
            await asyncio.wait(list(self._inflight), timeout=timeout_s)
        unfinished = dict(self._inflight)
        cancelled = [*unfinished, *self._tasks]
        for task in cancelled:
            task.cancel()
        # Bounded: a task that ignores or delays its cancellation must not hold up the exit.
        # Its run is released all the same; its lease is gone, so it can write nothing more.
        _, stuck = (
            await asyncio.wait(cancelled, timeout=self.cancel_grace_s) if cancelled else ((), ())
        )
        for task in stuck:
            log.warning("task %s did not stop within %.1f s of cancelling", task.get_name(),
                        self.cancel_grace_s)  # fmt: skip
        await self._release(list(unfinished.values()))

    async def _release(self, claims: list[Claim]) -> None:
        # Hand unfinished runs back at once so another worker resumes them after their last step.
        now = self.rt.clock.now_ms()
        for claim in claims:
            attempt = int(claim.run.get("attempt", "0"))
            with contextlib.suppress(StoreUnavailableError):
                code = await self.rt.store.reschedule(claim, now, "queued", attempt, "", now, None)
                if code == 2:  # asked to cancel while it ran: end it rather than hand it on
                    await self.rt.store.end_cancelled(claim, now, "cancelled")
                log.info("released run %s on shutdown", claim.run_id)

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            self.rt.wakeup.clear()
            try:
                next_due = await self._claim_some()
            except StoreUnavailableError as exc:
                log.warning("worker cannot reach the store: %s; retrying in 1 s", exc)
                next_due = self.rt.clock.now_ms() + 1_000
            await self._idle(next_due)

    async def _claim_some(self) -> int | None:
        next_tick = await self.rt.tick_crons()
        free = self.concurrency - len(self._inflight)
        if free <= 0:  # deliveries still get their runs planned, in order, while runs run
            await self.rt.plan_inbox()
            return next_tick
        batch = await self.rt.store.claim(self.rt.clock.now_ms(), self.rt.options.lease_ms, free)
        if batch.cancelled_pending:
            await self.rt.flush_cancelled()
        planned = await self.rt.plan_inbox() if batch.accepted_pending else 0
        for claim in batch.claims:
            run = asyncio.create_task(self._execute(claim), name=f"run-{claim.run_id}")
            self._inflight[run] = claim
            run.add_done_callback(self._done)
        if batch.claims or planned:
            return self.rt.clock.now_ms()
        due = [t for t in (batch.next_due_ms, next_tick) if t is not None]
        return min(due) if due else None

    def _done(self, task: asyncio.Task[str]) -> None:
        self._inflight.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("worker task crashed", exc_info=task.exception())
        self.rt.wakeup.set()

    async def _idle(self, next_due: int | None) -> None:
        now = self.rt.clock.now_ms()
        wait_ms = self.rt.options.idle_poll_ms if next_due is None else next_due - now
        wait_ms = min(wait_ms, self.rt.options.idle_poll_ms)
        if wait_ms <= 0 and len(self._inflight) < self.concurrency:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.rt.wakeup.wait(), max(wait_ms, 1) / 1000)

    async def _heartbeat(self) -> None:
        interval_s = self.rt.options.heartbeat_every_ms / 1000
        while True:
            await asyncio.sleep(interval_s)
            held = {(c.key, c.token): t for t, c in self._inflight.items()}
            until = self.rt.clock.now_ms() + self.rt.options.lease_ms
            try:
                lost = set(await self.rt.store.extend(list(held), until))
            except StoreUnavailableError as exc:
                log.warning("heartbeat cannot reach the store: %s", exc)
                continue
            for (key, _), task in held.items():
                # A run that ended while we asked no longer holds its key: that is no loss.
                if key in lost and not task.done():
                    log.warning("lease on %s lost; stopping its run here", key)
                    task.cancel()

    async def _listen(self) -> None:
        # Wake on work enqueued by other processes (the web role) instead of polling.
        while True:
            try:
                async with self.rt.store.wake_messages() as messages:
                    async for _ in messages:
                        self.rt.wakeup.set()
            except StoreUnavailableError as exc:
                log.warning("wake subscription lost: %s", exc)
            await asyncio.sleep(1)
