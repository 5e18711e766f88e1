"""What the dashboard can do to runs: rerun one, cancel one, replay the delivery behind one.

Rerun and replay store a copy of the recorded event under a new id (a deliberate replay, so the
24 h dedup does not apply), exactly as `prbot replay --delivery` does; a rerun plans only the
function of the run it repeats, so the other functions of that event do not post again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from bot.runtime import Event, Runtime
from bot.web.views import ACTIVE, stored_event


@dataclass(frozen=True)
class Outcome:
    """What an action did: `status` is an HTTP status; `run_id`/`event_id` name what it made."""

    status: int
    message: str
    run_id: str | None = None
    event_id: str | None = None


def replay_event(event: Event, stamp: int) -> Event:
    """Return a copy of a stored event under a new id, so it runs again (a deliberate replay)."""
    return Event(name=event.name, data=event.data, id=f"{event.id}.replay-{stamp}", v=event.v)


def _native(runtime: Runtime, name: str) -> Callable[[str], Awaitable[Any]] | None:
    # TODO(runtime): the runtime branch adds `cancel_run(run_id)` and `rerun(run_id)`; once it
    # lands, call them directly and drop this lookup (and, for rerun, the fallback below).
    found = getattr(runtime, name, None)
    return cast(Callable[[str], Awaitable[Any]], found) if callable(found) else None


class Actions:
    """Rerun, cancel and replay, on the runtime that serves the dashboard."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @property
    def can_cancel(self) -> bool:
        """Tell whether this runtime can cancel runs."""
        return _native(self.runtime, "cancel_run") is not None

    async def _stored(self, event_id: str) -> tuple[Event, dict[str, str]] | None:
        raw, _ = await self.runtime.store.reads.event(event_id)
        return stored_event(raw) if raw else None

    async def rerun(self, run_id: str) -> Outcome:
        """Run a finished run's function again on its event, as a new run."""
        state, _, _ = await self.runtime.store.reads.run(run_id)
        if not state:
            return Outcome(404, f"run {run_id} is unknown or expired")
        if state.get("status") in ACTIVE:
            return Outcome(409, f"run {run_id} is still {state.get('status')}: cancel it first")
        native = _native(self.runtime, "rerun")
        if native is not None:
            made = await native(run_id)
            return Outcome(303, f"rerun of {run_id} queued", run_id=str(made))
        fn = self.runtime.registry.get(state.get("fn", ""))
        stored = await self._stored(state.get("event", ""))
        if fn is None or stored is None:
            why = "its function is not registered here" if fn is None else "its event expired"
            return Outcome(409, f"run {run_id} cannot run again: {why}")
        event, meta = stored
        copy = replay_event(event, self.runtime.clock.now_ms())
        only = Runtime(self.runtime.store, [fn], clock=self.runtime.clock)
        [result] = await only.send([copy], meta=[meta], replay=True)
        self.runtime.wakeup.set()
        if not result.run_ids:
            return Outcome(409, f"{fn.id} no longer takes {event.name} events")
        return Outcome(303, f"rerun of {run_id} queued", result.run_ids[0], result.event_id)

    async def cancel(self, run_id: str) -> Outcome:
        """Cancel a run that has not finished."""
        native = _native(self.runtime, "cancel_run")
        if native is None:
            return Outcome(501, "cancelling runs needs a runtime with cancel_run (not this one)")
        said = await native(run_id)
        return Outcome(303, f"run {run_id}: {said}", run_id=run_id)

    async def replay(self, event_id: str) -> Outcome:
        """Store the event again under a new id, so every function it triggers runs anew."""
        stored = await self._stored(event_id)
        if stored is None:
            return Outcome(404, f"event {event_id} is unknown or expired")
        event, meta = stored
        copy = replay_event(event, self.runtime.clock.now_ms())
        [result] = await self.runtime.send([copy], meta=[meta], replay=True)
        runs = len(result.run_ids)
        return Outcome(303, f"replayed as {result.event_id}: {runs} new run(s)",
                       event_id=result.event_id)  # fmt: skip
