"""cancel_on, cancel_run and rerun: runs end `cancelled` in every state, a running step first."""

from __future__ import annotations

import asyncio

import pytest

from bot.runtime import (
    FUNCTION_CANCELLED,
    Cancel,
    Context,
    Event,
    Function,
    ManualClock,
    Observer,
    Runtime,
    Store,
    Worker,
    cancel_run,
    function,
    rerun,
    run_id_for,
)
from tests.runtime.test_contract import flaky, make_runtime, run_state
from tests.runtime.test_waits import pr_key

CLOSED = Cancel(event="pr/closed", match="data.pr")


class Counting(Observer):
    """Count run statuses as metrics would."""

    def __init__(self) -> None:
        self.statuses: list[tuple[str, str]] = []

    def run_finished(self, function_id: str, status: str) -> None:
        """Record one status."""
        self.statuses.append((function_id, status))


def watch_cancelled(seen: list[dict[str, object]]) -> Function:
    """Return a function recording every cancelled event."""

    @function("on-cancelled", FUNCTION_CANCELLED)
    async def on_cancelled(ctx: Context) -> None:
        seen.append(ctx.event.data)

    return on_cancelled


def build(
    store: Store, body: Function, seen: list[dict[str, object]], clock: ManualClock
) -> tuple[Runtime, Counting]:
    """Return a runtime with `body`, the cancelled-event watcher and a counting observer."""
    rt = make_runtime(store, body, watch_cancelled(seen), clock=clock)
    rt.observer = observer = Counting()
    return rt, observer


async def test_a_queued_run_is_cancelled_by_a_later_matching_event(store: Store) -> None:
    ran: list[str] = []
    seen: list[dict[str, object]] = []

    @function("sync", "pr/opened", concurrency_key=pr_key, cancel_on=[CLOSED])
    async def sync(ctx: Context) -> None:
        ran.append(ctx.event.id)

    rt, observer = build(store, sync, seen, ManualClock())
    # A close that came before the run's trigger does not cancel it.
    await rt.send([Event(name="pr/closed", id="c0", data={"pr": 1})])
    await rt.send([Event(name="pr/opened", id=f"o{i}", data={"pr": i}) for i in (1, 2, 3)])
    await rt.send([Event(name="pr/closed", id="c2", data={"pr": 2})])
    state = await run_state(store, run_id_for("o2", "sync"))
    assert state["status"] == "cancelled"  # at once, before any worker looked
    assert state["cancelled_by"] == "event c2"
    await Worker(rt).run_until_idle()
    assert ran == ["o1", "o3"]
    assert len(seen) == 1
    assert seen[0]["function_id"] == "sync"
    assert seen[0]["run_id"] == run_id_for("o2", "sync")
    assert seen[0]["reason"] == "event c2"
    trigger = Event.model_validate(seen[0]["event"])
    assert (trigger.name, trigger.id, trigger.data) == ("pr/opened", "o2", {"pr": 2})
    assert observer.statuses.count(("sync", "cancelled")) == 1
    # The listener index is cleaned once the runs ended.
    assert await store.redis.exists(store.keys.listen_prefix + "pr/closed") == 0


async def test_a_sleeping_run_is_cancelled(store: Store) -> None:
    ran: list[str] = []
    seen: list[dict[str, object]] = []

    @function("nap", "pr/opened", cancel_on=[CLOSED])
    async def nap(ctx: Context) -> None:
        await ctx.step.sleep("wait", 60)
        ran.append("after")

    clock = ManualClock()
    rt, _ = build(store, nap, seen, clock)
    worker = Worker(rt)
    await rt.send([Event(name="pr/opened", id="o1", data={"pr": 1})])
    await worker.run_until_idle()
    assert (await run_state(store, run_id_for("o1", "nap")))["status"] == "sleeping"
    await rt.send([Event(name="pr/closed", id="c1", data={"pr": 1})])
    clock.advance(120)
    await worker.run_until_idle()
    assert ran == []
    assert (await run_state(store, run_id_for("o1", "nap")))["status"] == "cancelled"
    assert await store.redis.zcard(store.keys.timers) == 0
    assert [s["run_id"] for s in seen] == [run_id_for("o1", "nap")]


async def test_a_waiting_run_is_cancelled(store: Store) -> None:
    ran: list[str] = []
    seen: list[dict[str, object]] = []

    @function("review", "pr/opened", cancel_on=[CLOSED])
    async def review(ctx: Context) -> None:
        await ctx.step.wait_for_event("r", event="pr/review", match="data.pr", timeout_s=60)
        ran.append("after")

    clock = ManualClock()
    rt, _ = build(store, review, seen, clock)
    worker = Worker(rt)
    await rt.send([Event(name="pr/opened", id="o1", data={"pr": 1})])
    await worker.run_until_idle()
    await rt.send([Event(name="pr/closed", id="c1", data={"pr": 1})])
    await rt.send([Event(name="pr/review", id="r1", data={"pr": 1})])
    clock.advance(120)
    await worker.run_until_idle()
    assert ran == []
    assert (await run_state(store, run_id_for("o1", "review")))["status"] == "cancelled"
    assert len(seen) == 1
    assert await store.redis.exists(store.keys.listen_prefix + "pr/review") == 0


async def test_a_retrying_run_is_cancelled_and_its_key_moves_on(store: Store) -> None:
    calls: list[str] = []
    seen: list[dict[str, object]] = []

    @function("flaky", "pr/opened", concurrency_key=lambda e: "one", cancel_on=[CLOSED])
    async def flaky_fn(ctx: Context) -> None:
        await ctx.step.run("x", flaky(1 if ctx.event.id == "o1" else 0, calls, ctx.event.id))

    clock = ManualClock()
    rt, _ = build(store, flaky_fn, seen, clock)
    worker = Worker(rt)
    await rt.send([Event(name="pr/opened", id=f"o{i}", data={"pr": i}) for i in (1, 2)])
    await worker.run_until_idle()
    assert calls == ["o1"]
    assert (await run_state(store, run_id_for("o1", "flaky")))["status"] == "retrying"
    await rt.send([Event(name="pr/closed", id="c1", data={"pr": 1})])
    await worker.run_until_idle()  # no clock move: the next run of the key is due at once
    assert calls == ["o1", "o2"]
    clock.advance(120)
    await worker.run_until_idle()
    assert calls == ["o1", "o2"]
    assert (await run_state(store, run_id_for("o1", "flaky")))["status"] == "cancelled"
    assert len(seen) == 1


async def test_a_running_run_finishes_its_step_then_ends_cancelled(store: Store) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    done: list[str] = []
    seen: list[dict[str, object]] = []

    async def slow() -> str:
        entered.set()
        await release.wait()
        done.append("slow")
        return "slow"

    async def after() -> None:
        done.append("after")

    @function("busy", "pr/opened", cancel_on=[CLOSED])
    async def busy(ctx: Context) -> None:
        await ctx.step.run("slow", slow)
        await ctx.step.run("after", after)

    rt, observer = build(store, busy, seen, ManualClock())
    worker = Worker(rt)
    await rt.send([Event(name="pr/opened", id="o1", data={"pr": 1})])
    task = asyncio.create_task(worker.run_until_idle())
    await asyncio.wait_for(entered.wait(), 5)
    await rt.send([Event(name="pr/closed", id="c1", data={"pr": 1})])
    run_id = run_id_for("o1", "busy")
    assert (await run_state(store, run_id))["status"] == "running"  # not interrupted
    release.set()
    await asyncio.wait_for(task, 5)
    await worker.run_until_idle()
    assert done == ["slow"]
    assert (await run_state(store, run_id))["status"] == "cancelled"
    assert await store.redis.hget(store.keys.steps(run_id), "slow") is not None
    assert worker.outcomes["cancelled"] == 1
    assert len(seen) == 1
    assert observer.statuses.count(("busy", "cancelled")) == 1


async def test_cancel_run_in_every_state(store: Store) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    seen: list[dict[str, object]] = []

    async def hold() -> None:
        entered.set()
        await release.wait()

    @function("states", "t/go")
    async def states(ctx: Context) -> None:
        mode = ctx.event.data["mode"]
        if mode == "sleep":
            await ctx.step.sleep("s", 60)
        elif mode == "wait":
            await ctx.step.wait_for_event("w", event="t/never", timeout_s=60)
        elif mode == "retry":
            await ctx.step.run("r", flaky(5, [], "r"))
        elif mode == "run":
            await ctx.step.run("hold", hold)
            await ctx.step.run("after", hold)

    clock = ManualClock()
    rt, _ = build(store, states, seen, clock)
    worker = Worker(rt)
    modes = ["sleep", "wait", "retry", "done"]
    await rt.send([Event(name="t/go", id=m, data={"mode": m}) for m in modes])
    await worker.run_until_idle()
    await rt.send([Event(name="t/go", id="queued", data={"mode": "done"})])
    expected = {"sleep": "cancelled", "wait": "cancelled", "retry": "cancelled"}
    expected |= {"queued": "cancelled", "done": "completed"}
    for mode, answer in expected.items():
        assert await cancel_run(rt, run_id_for(mode, "states")) == answer, mode
        assert (await run_state(store, run_id_for(mode, "states")))["status"] == answer
    assert await cancel_run(rt, "no-such-run") == "unknown"
    await rt.send([Event(name="t/go", id="run", data={"mode": "run"})])
    task = asyncio.create_task(worker.run_until_idle())
    await asyncio.wait_for(entered.wait(), 5)
    assert await cancel_run(rt, run_id_for("run", "states")) == "cancelling"
    release.set()
    await asyncio.wait_for(task, 5)
    await worker.run_until_idle()
    assert (await run_state(store, run_id_for("run", "states")))["status"] == "cancelled"
    clock.advance(120)
    await worker.run_until_idle()
    cancelled = sorted(str(s["run_id"]) for s in seen)
    assert cancelled == sorted(
        run_id_for(m, "states") for m in ("sleep", "wait", "retry", "queued", "run")
    )
    assert {s["reason"] for s in seen} == {"cancel_run"}


async def test_rerun_makes_a_new_run_of_the_same_event(store: Store) -> None:
    calls: list[tuple[str, int]] = []

    @function("again", "t/again", idempotency="data.user")
    async def again(ctx: Context) -> None:
        calls.append((ctx.run_id, int(ctx.event.data["n"])))

    rt = make_runtime(store, again)
    worker = Worker(rt)
    await rt.send([Event(name="t/again", id="a1", data={"user": "u", "n": 1})])
    await worker.run_until_idle()
    first = run_id_for("a1", "again")
    second = await rerun(rt, first)
    assert second == f"{first}-r1"
    third = await rerun(rt, second)
    assert third == f"{first}-r2"
    await worker.run_until_idle()  # idempotency does not stop a rerun: asking is the point
    assert calls == [(first, 1), (second, 1), (third, 1)]
    state = await run_state(store, third)
    assert state["status"] == "completed"
    assert state["rerun_of"] == second
    assert state["event"] == "a1"
    with pytest.raises(LookupError, match="no run nope"):
        await rerun(rt, "nope")
    # The event is not recorded again by a rerun.
    assert await store.redis.zcard(store.keys.events) == 1


async def test_a_run_cancelled_after_its_last_step_ends_cancelled(store: Store) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    seen: list[dict[str, object]] = []

    @function("tail", "pr/opened", cancel_on=[CLOSED])
    async def tail(ctx: Context) -> str:
        entered.set()
        await release.wait()  # handler code, not a step: nothing is saved before the end
        return "done"

    rt, _ = build(store, tail, seen, ManualClock())
    worker = Worker(rt)
    await rt.send([Event(name="pr/opened", id="o1", data={"pr": 1})])
    task = asyncio.create_task(worker.run_until_idle())
    await asyncio.wait_for(entered.wait(), 5)
    await rt.send([Event(name="pr/closed", id="c1", data={"pr": 1})])
    release.set()
    await asyncio.wait_for(task, 5)
    await worker.run_until_idle()
    state = await run_state(store, run_id_for("o1", "tail"))
    assert state["status"] == "cancelled"
    assert state["output"] == '"done"'  # what it returned is kept for inspection
    assert len(seen) == 1


async def test_a_worker_stopping_ends_a_run_asked_to_cancel(store: Store) -> None:
    entered, release = asyncio.Event(), asyncio.Event()
    seen: list[dict[str, object]] = []

    async def stuck() -> None:
        entered.set()
        await release.wait()

    @function("stuck", "pr/opened")
    async def stuck_fn(ctx: Context) -> None:
        await ctx.step.run("stuck", stuck)

    rt, _ = build(store, stuck_fn, seen, ManualClock())
    await rt.send([Event(name="pr/opened", id="o1", data={"pr": 1})])
    worker = Worker(rt)
    worker.cancel_grace_s = 0.2
    await worker.start()
    await asyncio.wait_for(entered.wait(), 5)
    assert await cancel_run(rt, run_id_for("o1", "stuck")) == "cancelling"
    await asyncio.wait_for(worker.stop(timeout_s=0.1), 5)
    release.set()
    assert (await run_state(store, run_id_for("o1", "stuck")))["status"] == "cancelled"
    await Worker(rt).run_until_idle()
    assert [s["run_id"] for s in seen] == [run_id_for("o1", "stuck")]
