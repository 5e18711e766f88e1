"""Leases: an abandoned run resumes after its last step; a stale worker can write nothing."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

from bot.runtime import (
    Context,
    Event,
    ManualClock,
    NonRetriableError,
    Runtime,
    Store,
    Worker,
    function,
    run_id_for,
)
from tests.runtime.test_contract import make_runtime


async def test_abandoned_run_resumes_after_last_completed_step(store: Store) -> None:
    counts: dict[str, int] = {}

    async def count(name: str) -> str:
        counts[name] = counts.get(name, 0) + 1
        return name

    @function("three", "t/three")
    async def three(ctx: Context) -> list[str]:
        return [await ctx.step.run(s, count, s) for s in ("one", "two", "three")]

    clock = ManualClock()
    rt = make_runtime(store, three, clock=clock)
    await rt.send([Event(name="t/three", id="r1")])
    run_id = run_id_for("r1", "three")
    # A worker claims the run, completes step one and dies before anything else.
    batch = await store.claim(clock.now_ms(), rt.options.lease_ms, 10)
    [claim] = batch.claims
    await store.save_step(claim, "one", json.dumps({"data": "one"}), clock.now_ms(), {})
    counts["one"] = 1
    worker = Worker(rt)
    assert await worker.run_until_idle() == 0  # still leased: nobody else may touch it
    clock.advance(rt.options.lease_ms / 1000)
    assert await worker.run_until_idle() == 1
    assert counts == {"one": 1, "two": 1, "three": 1}
    state = await store.redis.hgetall(store.keys.run(run_id))
    assert state["status"] == "completed"
    assert state["abandoned"] == "1"
    # The dead worker's late writes are refused (its lease is gone).
    assert not await store.save_step(claim, "two", '{"data":"x"}', clock.now_ms(), {})
    assert not await store.finish(claim, "failed", "error", "zombie", clock.now_ms(), None)
    assert (await store.redis.hgetall(store.keys.run(run_id)))["status"] == "completed"


async def test_a_run_abandoned_too_often_fails_instead_of_blocking_its_key(store: Store) -> None:
    @function("poison", "t/poison", concurrency_key=lambda e: "same")
    async def poison(ctx: Context) -> None:
        return None

    clock = ManualClock()
    rt = make_runtime(store, poison, clock=clock)
    await rt.send([Event(name="t/poison", id="p1"), Event(name="t/poison", id="p2")])
    for _ in range(rt.options.max_abandoned + 1):
        assert len((await store.claim(clock.now_ms(), 1_000, 10)).claims) == 1
        clock.advance(1)
    await Worker(rt).run_until_idle()
    p1 = await store.redis.hgetall(store.keys.run(run_id_for("p1", "poison")))
    p2 = await store.redis.hgetall(store.keys.run(run_id_for("p2", "poison")))
    assert p1["status"] == "failed"
    assert "abandoned" in p1["error"]
    assert p2["status"] == "completed"


async def test_several_workers_share_one_store_exactly_once_in_order(store: Store) -> None:
    executed: list[tuple[str, int, int]] = []

    def build(worker_no: int) -> Runtime:
        @function("shared", "t/shared", concurrency_key=lambda e: str(e.data["key"]))
        async def shared(ctx: Context) -> None:
            await ctx.step.run("work", asyncio.sleep, 0)
            executed.append((str(ctx.event.data["key"]), int(ctx.event.data["seq"]), worker_no))

        return Runtime(store, [shared])

    runtimes = [build(1), build(2)]
    events = [
        Event(name="t/shared", id=f"k{k}-{i}", data={"key": f"k{k}", "seq": i})
        for i in range(20)
        for k in range(10)
    ]
    await runtimes[0].send(events)
    workers = [Worker(rt, concurrency=4) for rt in runtimes]
    for w in workers:
        await w.start()
    try:
        async with asyncio.timeout(30):
            while len(executed) < len(events):
                await asyncio.sleep(0.01)
    finally:
        for w in workers:
            await w.stop(timeout_s=5)
    assert len(executed) == len(events)
    assert len({(k, s) for k, s, _ in executed}) == len(events)
    for k in range(10):
        assert [s for key, s, _ in executed if key == f"k{k}"] == list(range(20))
    assert {w for _, _, w in executed} == {1, 2}


async def test_failed_runs_index_is_bounded(store: Store) -> None:
    async def boom() -> None:
        raise NonRetriableError("no")

    @function("fails", "t/fails")
    async def fails(ctx: Context) -> None:
        await ctx.step.run("boom", boom)

    store.limits = replace(store.limits, runs_max=3)
    rt = make_runtime(store, fails)
    await rt.send([Event(name="t/fails", id=f"f{i}") for i in range(5)])
    await Worker(rt).run_until_idle()
    kept = await store.redis.zrange(store.keys.runs_failed, 0, -1)
    assert len(kept) == 3


async def test_stop_is_bounded_even_when_a_step_ignores_cancellation(store: Store) -> None:
    entered = asyncio.Event()
    release = asyncio.Event()

    async def stubborn() -> None:
        entered.set()
        try:
            await release.wait()
        except asyncio.CancelledError:
            await release.wait()  # ignores the first cancellation

    @function("stubborn", "t/stubborn")
    async def handler(ctx: Context) -> None:
        await ctx.step.run("stuck", stubborn)

    rt = Runtime(store, [handler])
    await rt.send([Event(name="t/stubborn", id="s1")])
    worker = Worker(rt, concurrency=2)
    worker.cancel_grace_s = 0.2
    await worker.start()
    await asyncio.wait_for(entered.wait(), 10)
    await asyncio.wait_for(worker.stop(timeout_s=0.1), 5)  # returns despite the stuck step
    state = await store.redis.hgetall(store.keys.run(run_id_for("s1", "stubborn")))
    assert state["status"] == "queued"  # handed back for another worker
    release.set()  # let the stuck task end
