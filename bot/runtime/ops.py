"""Operations people run on runs (`prbot runs cancel|rerun RUN_ID`, the dashboard)."""

from __future__ import annotations

from dataclasses import replace

from bot.runtime.functions import run_id_for
from bot.runtime.planner import parse_record
from bot.runtime.plans import Enqueue
from bot.runtime.runtime import Runtime

CANCEL_REASON = "cancel_run"
RERUN_TRIES = 100


async def cancel_run(runtime: Runtime, run_id: str) -> str:
    """Cancel a run; return cancelled, cancelling, completed, failed or unknown.

    A queued, sleeping, waiting or retrying run ends `cancelled` at once; a running one finishes
    its current step first (`cancelling`), then ends `cancelled`. A finished run is left alone.
    """
    status = await runtime.store.control.cancel(run_id, runtime.clock.now_ms(), CANCEL_REASON)
    if status == "cancelled":
        await runtime.flush_cancelled()
    runtime.wakeup.set()
    return status


async def rerun(runtime: Runtime, run_id: str) -> str:
    """Start a new run of the same function on the same event; return the new run id.

    The new id is `<run id of (event, function)>-r<n>`, n counting that pair's reruns. A rerun
    skips debounce and idempotency (asking for it is the point) but keeps throttle and cancel_on.
    Raise LookupError when the run, its function or its event is gone.
    """
    state, _, _ = await runtime.store.reads.run(run_id)
    if not state:
        raise LookupError(f"no run {run_id}")
    fn = runtime.registry.get(state.get("fn", ""))
    if fn is None:
        raise LookupError(f"run {run_id}: function {state.get('fn')!r} is not registered")
    raw, _ = await runtime.store.reads.event(state.get("event", ""))
    event = parse_record(raw) if raw else None
    if event is None:
        raise LookupError(f"run {run_id}: its event {state.get('event')} has expired")
    base = run_id_for(event.id, fn.id)
    # The count is kept as long as an ended run is: a rerun still listed has a number it took.
    # Should it have expired under a rerun that still lives, the taken numbers are skipped.
    keep_ms = runtime.store.limits.failed_ttl_ms
    for _ in range(RERUN_TRIES):
        new_id = f"{base}-r{await runtime.store.control.next_rerun(base, keep_ms)}"
        planned = replace(runtime.planner.run(fn, event, new_id, flow=False), rerun_of=run_id)
        item = Enqueue(event.id, "", [planned], dedup=False, replay=state.get("replay") == "1")
        result = await runtime.store.enqueue([item], runtime.clock.now_ms())
        if result.codes[0] == 3:
            raise LookupError(f"run {run_id}: its event {event.id} has expired")
        if result.codes[0] == 1:
            runtime.wakeup.set()
            return new_id
    raise LookupError(f"run {run_id}: no free rerun number after {RERUN_TRIES} tries")
