"""`step.wait_for_event`: parked off the queue, resumed by a matching event or the timeout."""

from __future__ import annotations

import json
from typing import cast

from bot.runtime import Context, Event, Function, ManualClock, Store, Worker, function, run_id_for
from tests.runtime.test_contract import make_runtime, run_state

HOUR_S = 3_600


def pr_key(e: Event) -> str:
    """Return the PR concurrency key of a test event."""
    return f"octo/app#{e.data['pr']}"


def review_waiter(got: list[str | None], fid: str = "wait", lookback_s: float = 0) -> Function:
    """Return a function that waits up to an hour for a review of its PR."""

    @function(fid, "pr/opened", concurrency_key=pr_key)
    async def waiter(ctx: Context) -> None:
        found = await ctx.step.wait_for_event(
            "review", event="pr/review", match="data.pr", timeout_s=HOUR_S, lookback_s=lookback_s
        )
        got.append(found.id if found else None)

    return waiter


async def test_a_matching_event_resumes_the_waiting_run(store: Store) -> None:
    got: list[str | None] = []
    clock = ManualClock()
    rt = make_runtime(store, review_waiter(got), clock=clock)
    await rt.send([Event(name="pr/opened", id="o1", data={"pr": 1})])
    worker = Worker(rt)
    await worker.run_until_idle()
    run_id = run_id_for("o1", "wait")
    state = await run_state(store, run_id)
    assert state["status"] == "waiting"
    assert state["wait_event"] == "pr/review"
    assert int(state["next_at"]) == clock.now_ms() + HOUR_S * 1000
    # Parked: in no queue and not in the ZSET claim scans, only in the timers.
    assert await store.redis.zcard(store.keys.sched) == 0
    assert await store.redis.zscore(store.keys.timers, f"r:{run_id}") is not None
    clock.advance(60)
    await rt.send([Event(name="pr/review", id="r2", data={"pr": 2})])  # another PR
    await rt.send([Event(name="pr/comment", id="c1", data={"pr": 1})])  # another name
    assert await worker.run_until_idle() == 0
    assert got == []
    await rt.send([Event(name="pr/review", id="r1", data={"pr": 1, "state": "approved"})])
    assert await worker.run_until_idle() == 1
    assert got == ["r1"]
    state = await run_state(store, run_id)
    assert state["status"] == "completed"
    assert "wait_event" not in state
    memo = await store.redis.hget(store.keys.steps(run_id), "review")
    assert json.loads(cast(str, memo))["data"]["data"] == {"pr": 1, "state": "approved"}
    # Nothing is left listening once the wait is over.
    assert await store.redis.exists(store.keys.listen_prefix + "pr/review") == 0


async def test_the_wait_times_out_with_none(store: Store) -> None:
    got: list[str | None] = []
    clock = ManualClock()
    rt = make_runtime(store, review_waiter(got), clock=clock)
    await rt.send([Event(name="pr/opened", id="o1", data={"pr": 1})])
    worker = Worker(rt)
    await worker.run_until_idle()
    clock.advance(HOUR_S - 0.001)
    assert await worker.run_until_idle() == 0
    clock.advance(0.002)
    # Arrived after the deadline, before the run woke: too late, it does not count.
    await rt.send([Event(name="pr/review", id="late", data={"pr": 1})])
    assert await worker.run_until_idle() == 1
    assert got == [None]
    state = await run_state(store, run_id_for("o1", "wait"))
    assert state["status"] == "completed"
    memo = await store.redis.hget(store.keys.steps(run_id_for("o1", "wait")), "review")
    assert json.loads(cast(str, memo)) == {"data": None}


async def test_events_before_the_wait_match_only_within_lookback(store: Store) -> None:
    got: dict[str, list[str | None]] = {"lb0": [], "lb5": [], "lb30": []}
    fns = [
        review_waiter(got[f], f, lookback) for f, lookback in (("lb0", 0), ("lb5", 5), ("lb30", 30))
    ]
    clock = ManualClock()
    rt = make_runtime(store, *fns, clock=clock)
    await rt.send([Event(name="pr/review", id="early", data={"pr": 1})])
    await rt.send([Event(name="pr/review", id="other", data={"pr": 2})])
    clock.advance(10)
    await rt.send([Event(name="pr/opened", id="o1", data={"pr": 1})])
    await Worker(rt).run_until_idle()
    assert got == {"lb0": [], "lb5": [], "lb30": ["early"]}
    assert (await run_state(store, run_id_for("o1", "lb0")))["status"] == "waiting"
    assert (await run_state(store, run_id_for("o1", "lb30")))["status"] == "completed"


async def test_a_predicate_refines_the_match_and_the_run_waits_on(store: Store) -> None:
    got: list[str | None] = []

    @function("approval", "pr/opened")
    async def approval(ctx: Context) -> None:
        found = await ctx.step.wait_for_event(
            "approved", event="pr/review", match="data.pr", timeout_s=HOUR_S,
            if_=lambda trigger, e: e.data.get("state") == "approved"
            and e.data.get("by") != trigger.data.get("author"),
        )  # fmt: skip
        got.append(found.id if found else None)

    clock = ManualClock()
    rt = make_runtime(store, approval, clock=clock)
    worker = Worker(rt)
    await rt.send([Event(name="pr/opened", id="o1", data={"pr": 1, "author": "ann"})])
    await worker.run_until_idle()
    await rt.send([Event(name="pr/review", id="r1", data={"pr": 1, "state": "commented"})])
    await rt.send(
        [Event(name="pr/review", id="r2", data={"pr": 1, "state": "approved", "by": "ann"})]
    )
    await worker.run_until_idle()
    assert got == []
    state = await run_state(store, run_id_for("o1", "approval"))
    assert state["status"] == "waiting"
    assert int(state["next_at"]) == ManualClock().now_ms() + HOUR_S * 1000  # deadline kept
    await rt.send(
        [Event(name="pr/review", id="r3", data={"pr": 1, "state": "approved", "by": "bo"})]
    )
    await worker.run_until_idle()
    assert got == ["r3"]


async def test_a_waiting_run_does_not_hold_its_queue(store: Store) -> None:
    order: list[str] = []

    @function("lifecycle", "pr/opened", concurrency_key=pr_key)
    async def lifecycle(ctx: Context) -> None:
        found = await ctx.step.wait_for_event(
            "review", event="pr/review", match="data.pr", timeout_s=HOUR_S
        )
        order.append(f"lifecycle saw {found.id if found else None}")

    @function("reviews", "pr/review", concurrency_key=pr_key)
    async def reviews(ctx: Context) -> None:
        order.append(f"reviews ran {ctx.event.id}")

    @function("comments", "pr/comment", concurrency_key=pr_key)
    async def comments(ctx: Context) -> None:
        order.append(f"comments ran {ctx.event.id}")

    rt = make_runtime(store, lifecycle, reviews, comments)
    worker = Worker(rt)
    await rt.send([Event(name="pr/opened", id="o1", data={"pr": 1})])
    await worker.run_until_idle()
    await rt.send([Event(name="pr/comment", id="c1", data={"pr": 1})])
    await worker.run_until_idle()
    assert order == ["comments ran c1"]  # the same PR's queue moved on while the run waited
    await rt.send([Event(name="pr/review", id="r1", data={"pr": 1})])
    await worker.run_until_idle()
    # The waiting run rejoins the back of its queue, ahead of the run the review itself makes.
    assert order == ["comments ran c1", "lifecycle saw r1", "reviews ran r1"]


async def test_a_retried_run_gets_the_saved_answer(store: Store) -> None:
    seen: list[str | None] = []

    @function("memo-wait", "pr/opened")
    async def memo_wait(ctx: Context) -> None:
        found = await ctx.step.wait_for_event(
            "review", event="pr/review", match="data.pr", timeout_s=60
        )
        seen.append(found.id if found else None)
        if ctx.attempt == 0:
            raise ConnectionError("after the wait")

    clock = ManualClock()
    rt = make_runtime(store, memo_wait, clock=clock)
    worker = Worker(rt)
    await rt.send([Event(name="pr/opened", id="o1", data={"pr": 1})])
    await worker.run_until_idle()
    await rt.send([Event(name="pr/review", id="r1", data={"pr": 1})])
    await worker.run_until_idle()
    await rt.send([Event(name="pr/review", id="r2", data={"pr": 1})])
    clock.advance(120)  # past the retry and past the wait's timeout
    await worker.run_until_idle()
    assert seen == ["r1", "r1"]
    assert (await run_state(store, run_id_for("o1", "memo-wait")))["status"] == "completed"


async def test_a_wait_without_match_takes_any_event_of_the_name(store: Store) -> None:
    got: list[str | None] = []

    @function("any", "t/start")
    async def any_event(ctx: Context) -> None:
        found = await ctx.step.wait_for_event("go", event="t/go", timeout_s=60)
        got.append(found.id if found else None)

    rt = make_runtime(store, any_event)
    worker = Worker(rt)
    await rt.send([Event(name="t/start", id="s1"), Event(name="t/start", id="s2")])
    await worker.run_until_idle()
    await rt.send([Event(name="t/go", id="g1", data={"x": [1]})])
    await worker.run_until_idle()
    assert got == ["g1", "g1"]  # every waiting run gets the event


async def test_a_trigger_without_the_match_path_fails_the_run(store: Store) -> None:
    @function("no-path", "t/start")
    async def no_path(ctx: Context) -> None:
        await ctx.step.wait_for_event("go", event="t/go", match="data.pr", timeout_s=60)

    rt = make_runtime(store, no_path)
    await rt.send([Event(name="t/start", id="s1", data={"pr": {"nested": 1}})])
    await Worker(rt).run_until_idle()
    state = await run_state(store, run_id_for("s1", "no-path"))
    assert state["status"] == "failed"
    assert "no scalar at 'data.pr'" in state["error"]


async def test_many_parked_runs_stay_out_of_the_claimed_zset(store: Store) -> None:
    got: list[str | None] = []
    rt = make_runtime(store, review_waiter(got))
    await rt.send([Event(name="pr/opened", id=f"o{i}", data={"pr": i}) for i in range(300)])
    worker = Worker(rt, concurrency=64)
    await worker.run_until_idle()
    assert await store.redis.zcard(store.keys.sched) == 0
    assert await store.redis.zcard(store.keys.timers) == 300
    await rt.send([Event(name="pr/review", id="r7", data={"pr": 7})])
    assert await worker.run_until_idle() == 1
    assert got == ["r7"]


async def test_a_second_wait_sees_only_events_after_it_began(store: Store) -> None:
    got: dict[str, str | None] = {}  # handler code runs again on resume; steps do not

    @function("twice", "pr/opened")
    async def twice(ctx: Context) -> None:
        for step in ("first", "second"):
            found = await ctx.step.wait_for_event(
                step, event="pr/review", match="data.pr", timeout_s=60
            )
            got[step] = found.id if found else None

    rt = make_runtime(store, twice)
    worker = Worker(rt)
    await rt.send([Event(name="pr/opened", id="o1", data={"pr": 1})])
    await worker.run_until_idle()
    await rt.send([Event(name="pr/review", id="r1", data={"pr": 1})])
    await worker.run_until_idle()
    assert got == {"first": "r1"}
    assert (await run_state(store, run_id_for("o1", "twice")))["wait_step"] == "second"
    await rt.send([Event(name="pr/review", id="r2", data={"pr": 1})])
    await worker.run_until_idle()
    assert got == {"first": "r1", "second": "r2"}
