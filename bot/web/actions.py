"""What the dashboard can do to runs: rerun one, cancel one, replay the delivery behind one.

Rerun and cancel are the runtime's `rerun` and `cancel_run`, as `prbot runs rerun|cancel` are:
a rerun is a new run (`<run id>-r<n>`) of that function alone on the same stored event, so the
other functions of the event do not post again. Replay stores a copy of the recorded event
under a new id (a deliberate replay, so the 24 h dedup does not apply) and every function it
triggers runs anew, exactly as `prbot replay --delivery` does.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.runtime import Event, Runtime, cancel_run, rerun
from bot.web.views import ACTIVE, stored_event

# What cancelling answered, as the dashboard says it (a finished run is left as it is).
CANCEL_SAID = {
    "cancelled": "cancelled",
    "cancelling": "cancelling: it stops after its current step",
    "completed": "already completed, nothing to cancel",
    "failed": "already failed, nothing to cancel",
}
FINISHED_FIRST = ("completed", "failed")


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


class Actions:
    """Rerun, cancel and replay, on the runtime that serves the dashboard."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

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
        try:
            made = await rerun(self.runtime, run_id)
        except LookupError as exc:
            return Outcome(409, f"run {run_id} cannot run again: {exc}")
        return Outcome(303, f"rerun of {run_id} queued", run_id=made)

    async def cancel(self, run_id: str) -> Outcome:
        """Cancel a run that has not finished (a running one after its current step)."""
        said = await cancel_run(self.runtime, run_id)
        if said == "unknown":
            return Outcome(404, f"run {run_id} is unknown or expired")
        message = f"run {run_id}: {CANCEL_SAID.get(said, said)}"
        return Outcome(409 if said in FINISHED_FIRST else 303, message, run_id=run_id)

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
