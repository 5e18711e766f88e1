"""Memoized steps: each step id runs once per run and its JSON result is saved before moving on."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, Protocol, TypeVar

from bot.runtime.errors import NonRetriableError, StepIdError
from bot.runtime.events import Event
from bot.runtime.flow import Match, check_path, match_key, value_at

P = ParamSpec("P")
T = TypeVar("T")


class Interrupt(BaseException):
    """Control flow out of a handler; a BaseException so `except Exception` cannot swallow it."""


class Suspend(Interrupt):
    """The run waits (durable sleep) until `until_ms` without holding a worker."""

    def __init__(self, step_id: str, until_ms: int) -> None:
        super().__init__(step_id, until_ms)
        self.step_id = step_id
        self.until_ms = until_ms


class StepFailed(Interrupt):
    """A step raised: the run stops here and the retry policy decides what follows."""

    def __init__(self, step_id: str, error: Exception, duration_ms: float) -> None:
        super().__init__(step_id, repr(error))
        self.step_id = step_id
        self.error = error
        self.duration_ms = duration_ms


class LeaseLost(Interrupt):
    """Another worker owns this run now (our lease expired): stop without writing anything."""


class Parked(Interrupt):
    """The run waits for an event off its queue (already stored so): stop here."""

    def __init__(self, step_id: str, event: str, until_ms: int) -> None:
        super().__init__(step_id, event, until_ms)
        self.step_id = step_id
        self.event = event
        self.until_ms = until_ms


class Cancelled(Interrupt):
    """The run was cancelled while this attempt ran; the store has ended it: stop here."""


Candidates = list[tuple[str, int, str]]  # event id, received ms, stored record


class StepSaver(Protocol):
    """Where a step's result goes: saved durably, fenced by the run's lease."""

    async def save_step(self, step_id: str, encoded: str, duration_ms: float) -> None:
        """Persist `encoded` under `step_id`; raise LeaseLost or Cancelled when we must stop."""

    async def wait(self, step_id: str, spec: dict[str, object], consumed: list[str]) -> Candidates:
        """Return events offered to the wait (none: timed out); raise Parked when there are none."""


Sender = Callable[[list[Event]], Awaitable[object]]


def nonce_for(run_id: str, step_id: str) -> str:
    """Return a Discord-safe nonce (24 chars) derived from run and step."""
    return hashlib.blake2b(f"{run_id}\x00{step_id}".encode(), digest_size=12).hexdigest()


class Step:
    """The `ctx.step` of a run: `run`, `sleep` and `send_event`, all memoized by step id."""

    def __init__(
        self,
        run_id: str,
        memo: dict[str, str],
        saver: StepSaver,
        now_ms: Callable[[], int],
        send: Sender,
        trigger: Event | None = None,
    ) -> None:
        self._run_id = run_id
        self._trigger = trigger
        self._memo = memo
        self._saver = saver
        self._now_ms = now_ms
        self._send = send
        self._seen: dict[str, int] = {}

    def _resolve(self, step_id: str) -> str:
        # A repeated id gets a deterministic suffix (":2", ":3"…) in call order, as in Inngest.
        if not isinstance(step_id, str) or not step_id:
            raise StepIdError(f"step id must be a non-empty string, got {step_id!r}")
        count = self._seen.get(step_id, 0) + 1
        self._seen[step_id] = count
        return step_id if count == 1 else f"{step_id}:{count}"

    def nonce(self, step_id: str) -> str:
        """Return the idempotency nonce for the step `step_id` of this run."""
        return nonce_for(self._run_id, step_id)

    async def run(
        self,
        step_id: str,
        fn: Callable[P, Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run `fn(*args, **kwargs)` once for this run and return its (saved) JSON result."""
        sid = self._resolve(step_id)
        if sid in self._memo:
            return _decode(self._memo[sid])  # type: ignore[no-any-return]
        started = time.perf_counter()
        try:
            result = await fn(*args, **kwargs)
            encoded = _encode(result)
        except Exception as exc:
            raise StepFailed(sid, exc, _elapsed_ms(started)) from exc
        await self._saver.save_step(sid, encoded, _elapsed_ms(started))
        self._memo[sid] = encoded
        # Hand back the decoded copy so a first run sees exactly what a replay will see.
        return _decode(encoded)  # type: ignore[no-any-return]

    async def sleep(self, step_id: str, seconds: float) -> None:
        """Wait `seconds` durably: the run is rescheduled and no worker waits."""
        sid = self._resolve(step_id)
        if sid in self._memo:
            until = int(json.loads(self._memo[sid])["until"])
        else:
            until = self._now_ms() + int(seconds * 1000)
            encoded = json.dumps({"data": None, "until": until})
            await self._saver.save_step(sid, encoded, 0.0)
            self._memo[sid] = encoded
        if self._now_ms() < until:
            raise Suspend(sid, until)

    async def wait_for_event(
        self,
        step_id: str,
        *,
        event: str,
        match: str | None = None,
        timeout_s: float,
        lookback_s: float = 0,
        if_: Match | None = None,
    ) -> Event | None:
        """Wait durably for `event` whose `match` path equals the trigger's; None on timeout.

        No worker waits: the run leaves its queue until a matching event or the timeout. Events
        sent before the wait began match only within `lookback_s`. `if_(trigger, incoming)` may
        refine the match. The answer is saved, so a retried run gets the same one.
        """
        sid = self._resolve(step_id)
        if sid in self._memo:
            data = _decode(self._memo[sid])
            return None if data is None else Event.model_validate(data)
        spec = self._wait_spec(sid, event, match, timeout_s, lookback_s)
        consumed: list[str] = []
        found: Event | None = None
        while found is None:
            candidates = await self._saver.wait(sid, spec, consumed)
            if not candidates:
                break  # timed out
            for event_id, _, stored in candidates:
                consumed.append(event_id)
                found = self._accept(sid, stored, if_)
                if found is not None:
                    break
        encoded = json.dumps({"data": found.model_dump(mode="json") if found else None})
        await self._saver.save_step(sid, encoded, 0.0)
        self._memo[sid] = encoded
        return found

    def _wait_spec(
        self, sid: str, event: str, match: str | None, timeout_s: float, lookback_s: float
    ) -> dict[str, object]:
        key = "*"
        if match is not None:
            found = match_key(value_at(self._require_trigger(), check_path(match)))
            if found is None:
                raise NonRetriableError(f"wait {sid!r}: trigger has no scalar at {match!r}")
            key = found
        on = json.dumps([event, match or "", key])
        deadline = self._now_ms() + int(timeout_s * 1000)
        return {"step": sid, "name": event, "on": on, "deadline": deadline,
                "lookback": int(lookback_s * 1000)}  # fmt: skip

    def _accept(self, sid: str, stored: str, if_: Match | None) -> Event | None:
        if not stored:
            return None  # the record expired
        incoming = Event.model_validate(json.loads(stored)["event"])
        if if_ is None:
            return incoming
        try:
            ok = if_(self._require_trigger(), incoming)
        except Exception as exc:
            raise StepFailed(sid, exc, 0.0) from exc
        return incoming if ok else None

    def _require_trigger(self) -> Event:
        if self._trigger is None:
            raise NonRetriableError("wait_for_event needs the run's trigger event")
        return self._trigger

    async def send_event(self, step_id: str, events: Event | list[Event]) -> list[str]:
        """Send events once for this run; ids not chosen by the caller derive from run and step."""
        batch = [events] if isinstance(events, Event) else list(events)
        sid_hint = f"{self._run_id}:{step_id}"
        fixed = [
            e if e.id_is_explicit() else e.model_copy(update={"id": f"{sid_hint}:{i}"})
            for i, e in enumerate(batch)
        ]

        async def send() -> list[str]:
            await self._send(fixed)
            return [e.id for e in fixed]

        return await self.run(step_id, send)


def _encode(result: object) -> str:
    try:
        return json.dumps({"data": result}, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise NonRetriableError(f"step result is not JSON-serialisable: {exc}") from exc


def _decode(encoded: str) -> Any:
    return json.loads(encoded)["data"]


def _elapsed_ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
