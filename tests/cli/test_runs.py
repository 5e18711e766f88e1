"""`prbot runs cancel|rerun RUN_ID` and `prbot runs --status`, as the real command on real Redis."""

from __future__ import annotations

import time

from bot.discord.dryrun import DryRunAdapter
from bot.ops.fixtures import load_delivery, scenarios_dir
from bot.prs.deps import Deps
from bot.runtime import (
    FUNCTION_CANCELLED,
    Context,
    Event,
    ManualClock,
    Runtime,
    Store,
    Worker,
    function,
    run_id_for,
)
from bot.settings import load_settings
from functions import build_functions
from functions.thread_lifecycle import FUNCTION_ID as LIFECYCLE
from tests.runtime.test_contract import make_runtime, run_state
from tests.runtime.test_inspect import prbot


async def _sleeping_and_done(store: Store) -> tuple[str, str]:
    """Make a run that sleeps an hour and one that completed; return their ids."""

    @function("nap", "t/nap")
    async def nap(ctx: Context) -> None:
        await ctx.step.sleep("nap", 3600)

    @function("quick", "t/quick")
    async def quick(ctx: Context) -> None:
        return None

    # Now, as the `prbot` processes see it: a run recorded long ago would be past its retention
    # by the time the command ends it, and then deleted with its event.
    rt = make_runtime(store, nap, quick, clock=ManualClock(int(time.time() * 1000)))
    await rt.send([Event(name="t/nap", id="n1"), Event(name="t/quick", id="q1")])
    await Worker(rt).run_until_idle()
    return run_id_for("n1", "nap"), run_id_for("q1", "quick")


async def test_cancel_ends_a_sleeping_run_and_says_so(real_store: Store, redis_url: str) -> None:
    sleeping, done = await _sleeping_and_done(real_store)
    assert (await run_state(real_store, sleeping))["status"] == "sleeping"
    listed = prbot(redis_url, "runs", "--status", "sleeping")
    assert [line.split()[0] for line in listed.stdout.splitlines()[1:]] == [sleeping]

    out = prbot(redis_url, "runs", "cancel", sleeping)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"run {sleeping} is cancelled"
    state = await run_state(real_store, sleeping)
    assert (state["status"], state["cancelled_by"]) == ("cancelled", "cancel_run")
    # The cancelled event went out once, as for any cancellation.
    raw, _ = await real_store.reads.event(f"cancelled-{sleeping}")
    assert raw is not None and FUNCTION_CANCELLED in raw
    assert await real_store.reads.parked() == 0
    shown = prbot(redis_url, "runs", "show", sleeping)
    assert "cancelled by cancel_run" in shown.stdout
    listed = prbot(redis_url, "runs", "--status", "cancelled")
    assert [line.split()[0] for line in listed.stdout.splitlines()[1:]] == [sleeping]

    again = prbot(redis_url, "runs", "cancel", sleeping)
    assert (again.returncode, again.stdout.strip()) == (0, f"run {sleeping} is cancelled")
    finished = prbot(redis_url, "runs", "cancel", done)
    assert finished.returncode == 1
    assert f"run {done} has already completed: nothing to cancel" in finished.stderr
    unknown = prbot(redis_url, "runs", "cancel", "nope")
    assert unknown.returncode == 1
    assert "no run nope (unknown or expired)" in unknown.stderr
    usage = prbot(redis_url, "runs", "cancel")
    assert usage.returncode == 2 and "usage: prbot runs cancel RUN_ID" in usage.stderr


async def test_rerun_queues_a_new_run_of_the_same_function(
    real_store: Store, redis_url: str
) -> None:
    settings = load_settings({"DISCORD_CHANNEL_ID": "100000000000000001"})
    deps = Deps.build(settings, real_store, DryRunAdapter(echo=False))
    rt = Runtime(real_store, build_functions(deps), clock=ManualClock())
    opened = load_delivery(scenarios_dir() / "pr-lifecycle" / "01-opened.json")
    event = Event(name="github/pull_request.opened", id=opened.delivery_id, data=opened.payload())
    await rt.send([event])
    await Worker(rt).run_until_idle()
    first = run_id_for(opened.delivery_id, LIFECYCLE)
    assert (await run_state(real_store, first))["status"] == "completed"

    out = prbot(redis_url, "runs", "rerun", first)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (
        f"rerun of {first} queued as run {first}-r1: the running workers execute it"
    )
    state = await run_state(real_store, f"{first}-r1")
    assert (state["fn"], state["status"], state["rerun_of"]) == (LIFECYCLE, "queued", first)
    assert state["event"] == opened.delivery_id  # the same event, not a copy
    second = prbot(redis_url, "runs", "rerun", first)
    assert second.stdout.strip().endswith(f"as run {first}-r2: the running workers execute it")

    busy = prbot(redis_url, "runs", "rerun", f"{first}-r1")
    assert busy.returncode == 1
    assert f"run {first}-r1 is still queued: cancel it first" in busy.stderr
    unknown = prbot(redis_url, "runs", "rerun", "nope")
    assert (unknown.returncode, unknown.stderr.strip()) == (1, "prbot: cannot rerun: no run nope")


async def test_rerun_of_a_function_this_prbot_lacks_is_refused(
    real_store: Store, redis_url: str
) -> None:
    _, done = await _sleeping_and_done(real_store)
    out = prbot(redis_url, "runs", "rerun", done)
    assert out.returncode == 1
    assert "function 'quick' is not registered" in out.stderr
