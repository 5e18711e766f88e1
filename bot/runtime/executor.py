"""Execute one claimed run: call the handler, save steps, then finish or reschedule it."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bot.runtime.clock import Clock
from bot.runtime.context import Context, running_as
from bot.runtime.errors import NonRetriableError, StoreUnavailableError
from bot.runtime.events import Event
from bot.runtime.functions import Function
from bot.runtime.observer import Observer
from bot.runtime.options import RuntimeOptions
from bot.runtime.planner import Planner
from bot.runtime.policy import decide, describe
from bot.runtime.steps import Cancelled, Candidates, LeaseLost, Parked, Step, StepFailed, Suspend
from bot.runtime.store import Claim, Store

log = logging.getLogger("bot.runtime.run")


class RunLogger(logging.LoggerAdapter[logging.Logger]):
    """A run's logger: the run's context on every line, plus the call's own `extra`."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        """Merge the call's `extra` (step, ms, outcome) over the run's context."""
        kwargs["extra"] = {**(self.extra or {}), **kwargs.get("extra", {})}
        return msg, kwargs


@dataclass(frozen=True)
class Services:
    """What executing a run needs: the store, the planner, time, tuning and the event sender."""

    store: Store
    planner: Planner
    clock: Clock
    rng: random.Random
    options: RuntimeOptions
    observer: Observer
    send: Callable[[Sequence[Event]], Awaitable[object]]


class Execution:
    """One attempt at one run, holding the lease `claim`; also the steps' saver."""

    def __init__(self, services: Services, claim: Claim) -> None:
        self.rt = services
        self.claim = claim
        self.attempt = int(claim.run.get("attempt", "0"))
        self.function_id = claim.run.get("fn", "?")
        self.replay = claim.run.get("replay") == "1"
        context = {"run_id": claim.run_id, "function": self.function_id, "attempt": self.attempt}
        # For GitHub events the event id is the delivery id: logs tie runs to deliveries.
        context["delivery_id"] = claim.run.get("event", "?")
        self.logger = RunLogger(log, context)

    def _now(self) -> int:
        return self.rt.clock.now_ms()

    async def save_step(self, step_id: str, encoded: str, duration_ms: float) -> None:
        """Persist a step result under our lease (StepSaver)."""
        entry = {"step": step_id, "status": "ok", "attempt": self.attempt, "at": self._now()}
        entry["duration_ms"] = round(duration_ms, 3)
        code = await self.rt.store.save_step(self.claim, step_id, encoded, self._now(), entry)
        _check(code, step_id)
        self.rt.observer.step_finished(self.function_id, True, duration_ms / 1000)
        self.logger.debug(
            "step %s ok in %.1f ms", step_id, duration_ms,
            extra={"step": step_id, "ms": round(duration_ms, 1), "outcome": "ok"},
        )  # fmt: skip

    async def wait(self, step_id: str, spec: dict[str, object], consumed: list[str]) -> Candidates:
        """Ask the store about a wait: events offered, none (timed out), or park (StepSaver)."""
        reply = await self.rt.store.wait(self.claim, spec, consumed, self._now())
        if reply.outcome == "lost":
            raise LeaseLost(step_id)
        if reply.outcome == "cancelled":
            raise Cancelled(step_id)
        if reply.outcome == "parked":
            raise Parked(step_id, str(spec["name"]), reply.deadline_ms)
        return reply.candidates

    async def execute(self) -> str:
        """Run the handler once; return completed, failed, retrying, sleeping, waiting, lost…"""
        try:
            try:
                return await self._execute()
            except Cancelled as c:
                return await self._cancelled(str(c.args[0]) if c.args else "$handler")
        except LeaseLost:
            self.logger.warning("run lease lost; another worker resumes it")
            return "lost"
        except StoreUnavailableError as exc:
            # Not the function's fault: nothing more can be saved, and the lease brings the
            # run back after the visibility timeout, resuming after its last saved step.
            self.logger.warning("store unavailable mid-run (%s); it resumes later", exc)
            return "lost"

    async def _cancelled(self, step: str) -> str:
        # Asked to cancel while this attempt ran: end the run here (after `step`).
        reason = self.claim.run.get("cancel", "cancelled")
        if not await self.rt.store.end_cancelled(self.claim, self._now(), reason):
            raise LeaseLost(step)
        self.logger.info("run cancelled after step %s", step, extra={"outcome": "cancelled"})
        return "cancelled"

    async def _execute(self) -> str:
        if "cancel" in self.claim.run:
            raise Cancelled("$claim")  # its last worker died after the cancel was asked
        fn = self.rt.planner.registry.get(self.function_id)
        event = self._event()
        if fn is None or event is None:
            why = "event record expired" if fn else f"function {self.function_id!r} not registered"
            return await self._fail(fn, event, NonRetriableError(why), step=None)
        abandoned = int(self.claim.run.get("abandoned", "0"))
        if abandoned > self.rt.options.max_abandoned:
            why = f"run abandoned {abandoned} times (worker crashed or stalled mid-run)"
            return await self._fail(fn, event, NonRetriableError(why), step=None)
        started = time.perf_counter()
        self.logger.info("run start %s event %s (%s)", fn.id, event.id, event.name)
        try:
            with running_as(self.claim.run_id):
                output = await fn.handler(self._context(fn, event))
        except Suspend as s:
            return await self._sleep(s)
        except Parked as p:
            return self._parked(p)
        except StoreUnavailableError:
            raise
        except StepFailed as f:
            self.rt.observer.step_finished(fn.id, False, f.duration_ms / 1000)
            return await self._error(fn, event, f.error, f.step_id, f.duration_ms)
        except Exception as exc:
            return await self._error(fn, event, exc, None, 0.0)
        return await self._complete(output, started)

    def _event(self) -> Event | None:
        if not self.claim.record:
            return None
        try:
            return Event.model_validate(json.loads(self.claim.record)["event"])
        except (ValueError, KeyError, ValidationError):
            return None

    def _context(self, fn: Function, event: Event) -> Context:
        memo = {k: v for k, v in self.claim.steps.items()}
        step = Step(self.claim.run_id, memo, self, self._now, self.rt.send, event)
        return Context(
            event, step, self.claim.run_id, fn.id, self.attempt, self.logger, self.replay
        )

    async def _complete(self, output: Any, started: float) -> str:
        try:
            value = json.dumps(output)
        except (TypeError, ValueError):
            value = json.dumps(repr(output))
        entry = {"step": "$end", "status": "completed", "at": self._now()}
        await self._finish("completed", "output", value, entry)
        ms = (time.perf_counter() - started) * 1000
        extra = {"outcome": "completed", "ms": round(ms, 1)}
        self.logger.info("run completed in %.1f ms", ms, extra=extra)
        return "completed"

    async def _sleep(self, s: Suspend) -> str:
        entry = {"step": s.step_id, "status": "sleep", "until": s.until_ms, "at": self._now()}
        code = await self.rt.store.sleep(self.claim, s.until_ms, self._now(), entry)
        _check(code, s.step_id)
        extra = {"step": s.step_id, "outcome": "sleeping"}
        self.logger.info("run sleeps until %d (step %s)", s.until_ms, s.step_id, extra=extra)
        self.rt.observer.run_finished(self.function_id, "sleeping")
        return "sleeping"

    def _parked(self, p: Parked) -> str:
        extra = {"step": p.step_id, "outcome": "waiting"}
        self.logger.info(
            "run waits for %s until %d (step %s)", p.event, p.until_ms, p.step_id, extra=extra
        )
        self.rt.observer.run_finished(self.function_id, "waiting")
        return "waiting"

    async def _error(
        self, fn: Function, event: Event, error: BaseException, step: str | None, ms: float
    ) -> str:
        now = self._now()
        d = decide(error, self.attempt, fn.retries, now, self.rt.options.backoff, self.rt.rng)
        if d.at_ms is None:
            return await self._fail(fn, event, error, step)
        text = describe(error)
        entry = {"step": step or "$handler", "status": "error", "attempt": self.attempt}
        entry.update({"at": now, "duration_ms": round(ms, 3), "error": text, "retry_at": d.at_ms})
        code = await self.rt.store.reschedule(
            self.claim, d.at_ms, "retrying", d.attempt, text, now, entry
        )
        _check(code, step or "$handler")
        self.logger.warning(
            "run attempt %d failed at step %s: %s; retry %d in %.1f s",
            self.attempt, step or "$handler", text, d.attempt, (d.at_ms - now) / 1000,
            extra={"step": step or "$handler", "ms": round(ms, 1), "outcome": "retrying"},
        )  # fmt: skip
        self.rt.observer.retried(fn.id)
        return "retrying"

    async def _fail(
        self, fn: Function | None, event: Event | None, error: BaseException, step: str | None
    ) -> str:
        text = describe(error)
        then = []
        if fn is not None and event is not None:
            failed = self.rt.planner.failure_events(fn, self.claim.run_id, text, event)
            then = [self.rt.planner.plan(e) for e in failed]
        entry = {"step": step or "$handler", "status": "failed", "attempt": self.attempt}
        entry.update({"at": self._now(), "error": text})
        await self._finish("failed", "error", text, entry, then)
        extra = {"step": step or "$handler", "outcome": "failed"}
        self.logger.error("run failed at step %s: %s", step or "$handler", text, extra=extra)
        return "failed"

    async def _finish(
        self, status: str, field: str, value: str, entry: dict[str, Any], then: Any = ()
    ) -> None:
        code = await self.rt.store.finish(
            self.claim, status, field, value, self._now(), entry, then
        )
        _check(code, status)
        self.rt.observer.run_finished(self.function_id, status)


def _check(code: int, step_id: str) -> None:
    """Turn a fenced script's answer into control flow: 0 lease lost, 2 cancelled meanwhile."""
    if code == 0:
        raise LeaseLost(step_id)
    if code == 2:
        raise Cancelled(step_id)
