"""Group commit on a real Redis: concurrent sends share Lua calls and each gets its own answer."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest

from bot.runtime import (
    Context,
    Event,
    ManualClock,
    Runtime,
    SendResult,
    Store,
    StoreUnavailableError,
    function,
)
from bot.runtime.batching import enqueue_batcher


@function("per-pr", "t/*", concurrency_key=lambda e: str(e.data.get("pr", "")))
async def per_pr(ctx: Context) -> None:
    """Queue every event's run under its PR, so the queue shows the order of arrival."""


class TickingClock(ManualClock):
    """A manual clock that moves 1 ms each time it is read: one tick per store call."""

    def now_ms(self) -> int:
        """Return the time, then move on by a millisecond."""
        now = super().now_ms()
        self.advance(0.001)
        return now


async def calls_for(store: Store, ids: list[str]) -> int:
    """Return how many store calls recorded `ids`: each call stamps its events with its tick."""
    rows = await store.redis.zrange(store.keys.events, 0, -1, withscores=True)
    stamps = dict(cast(list[tuple[str, float]], rows))
    return len({stamps[i] for i in ids})


def event(event_id: str, pr: int = 1) -> Event:
    """Return an event of PR `pr` with an explicit id."""
    return Event(name="t/opened", id=event_id, data={"pr": pr})


async def sent_concurrently(runtime: Runtime, ids: list[str]) -> list[SendResult]:
    """Send one event per id, all at once, as concurrent webhook requests do."""
    return list(await asyncio.gather(*(runtime.send_one(event(i)) for i in ids)))


@pytest.fixture
def runtime(real_store: Store) -> Runtime:
    """Return a runtime on the real Redis whose clock ticks once per store call."""
    return Runtime(real_store, [per_pr], clock=TickingClock())


async def test_a_lone_send_goes_at_once_in_its_own_call(runtime: Runtime) -> None:
    ids = [f"d-{n}" for n in range(3)]
    results = [await runtime.send_one(event(i)) for i in ids]
    assert [r.status for r in results] == ["queued"] * 3
    assert await calls_for(runtime.store, ids) == 3


async def test_concurrent_sends_share_one_call_in_arrival_order(runtime: Runtime) -> None:
    ids = [f"d-{n}" for n in range(10)]
    results = await sent_concurrently(runtime, ids)
    assert await calls_for(runtime.store, ids) == 1
    assert [(r.event_id, r.status) for r in results] == [(i, "queued") for i in ids]
    store = runtime.store
    queued = await store.redis.lrange(store.keys.queue("key:1"), 0, -1)
    assert queued == [r.run_ids[0] for r in results]  # the PR's runs, in the order sent
    for i in ids:
        assert await store.redis.exists(store.keys.event(i)) == 1


async def test_a_repeat_inside_one_call_is_a_duplicate(runtime: Runtime) -> None:
    results = await sent_concurrently(runtime, ["d-a", "d-b", "d-a", "d-a"])
    assert [r.status for r in results] == ["queued", "queued", "duplicate", "duplicate"]
    queued = await runtime.store.redis.llen(runtime.store.keys.queue("key:1"))
    assert queued == 2


async def test_batches_are_bounded_and_follow_each_other(runtime: Runtime) -> None:
    runtime.batcher = enqueue_batcher(runtime.store, runtime.clock, max_batch=4, max_inflight=1)
    ids = [f"d-{n}" for n in range(10)]
    results = await sent_concurrently(runtime, ids)
    assert [r.status for r in results] == ["queued"] * 10
    assert await calls_for(runtime.store, ids) == 3  # 4 + 4 + 2


async def test_every_waiter_hears_that_the_store_is_down() -> None:
    down = Store.connect("redis://127.0.0.1:1/0", prefix="test")
    runtime = Runtime(down, [per_pr], clock=ManualClock())
    try:
        outcomes = await asyncio.gather(
            *(runtime.send_one(event(f"d-{n}")) for n in range(5)), return_exceptions=True
        )
    finally:
        await down.close()
    assert all(isinstance(o, StoreUnavailableError) for o in outcomes), outcomes
