"""The runtime contract, run against both the embedded store and a real Redis server."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from typing import cast

from bot.runtime import (
    FUNCTION_FAILED,
    Context,
    Event,
    Function,
    ManualClock,
    NonRetriableError,
    RetryAfterError,
    Runtime,
    RuntimeOptions,
    Store,
    Worker,
    function,
    run_id_for,
)
from bot.runtime.policy import Backoff

DAY_S = 86_400


def make_runtime(store: Store, *functions: Function, clock: ManualClock | None = None) -> Runtime:
    """Build a runtime on `store` with a manual clock and a seeded RNG."""
    opts = RuntimeOptions(lease_ms=10_000, backoff=Backoff(base_ms=1_000, cap_ms=60_000))
    return Runtime(
        store, functions, clock=clock or ManualClock(), rng=random.Random(7), options=opts
    )


def flaky(failures: int, calls: list[str], name: str) -> Callable[[], Awaitable[str]]:
    """Return a step body that raises `failures` times, then returns `name`."""

    async def body() -> str:
        calls.append(name)
        if calls.count(name) <= failures:
            raise ConnectionError(f"{name} failed")
        return name

    return body


async def run_state(store: Store, run_id: str) -> dict[str, str]:
    """Return the stored state of a run."""
    return cast(dict[str, str], await store.redis.hgetall(store.keys.run(run_id)))


async def test_steps_are_memoized_across_retries(store: Store) -> None:
    calls: list[str] = []

    @function("memo", "t/memo")
    async def memo(ctx: Context) -> list[str]:
        a = await ctx.step.run("a", flaky(0, calls, "a"))
        b = await ctx.step.run("b", flaky(2, calls, "b"))
        return [a, b]

    clock = ManualClock()
    rt = make_runtime(store, memo, clock=clock)
    await rt.send([Event(name="t/memo", id="e1")])
    worker = Worker(rt)
    for _ in range(3):
        await worker.run_until_idle()
        clock.advance(60)
    await worker.run_until_idle()
    assert calls == ["a", "b", "b", "b"]
    state = await run_state(store, run_id_for("e1", "memo"))
    assert state["status"] == "completed"
    assert json.loads(state["output"]) == ["a", "b"]


async def test_backoff_waits_with_jitter_and_grows(store: Store) -> None:
    calls: list[str] = []

    @function("backoff", "t/backoff", retries=4)
    async def fn(ctx: Context) -> None:
        await ctx.step.run("x", flaky(3, calls, "x"))

    clock = ManualClock()
    rt = make_runtime(store, fn, clock=clock)
    await rt.send([Event(name="t/backoff", id="e1")])
    worker, run_id = Worker(rt), run_id_for("e1", "backoff")
    await worker.run_until_idle()
    delays = []
    for attempt in (1, 2, 3):
        state = await run_state(store, run_id)
        assert state["status"] == "retrying"
        assert int(state["attempt"]) == attempt
        delay_ms = int(state["next_at"]) - clock.now_ms()
        ceiling = 1_000 * 2 ** (attempt - 1)
        assert ceiling / 2 <= delay_ms <= ceiling
        delays.append(delay_ms)
        clock.advance((delay_ms - 1) / 1000)
        await worker.run_until_idle()
        assert calls.count("x") == attempt  # not before its time
        clock.advance(0.001)
        await worker.run_until_idle()
    assert calls.count("x") == 4
    assert (await run_state(store, run_id))["status"] == "completed"
    assert delays[2] > delays[0]


async def test_non_retriable_fails_at_once_and_emits_failure_event(store: Store) -> None:
    seen: list[dict[str, object]] = []

    @function("doomed", "t/doomed")
    async def doomed(ctx: Context) -> None:
        await ctx.step.run("boom", _raise(NonRetriableError("bad request 50035")))

    @function("on-failure", FUNCTION_FAILED)
    async def on_failure(ctx: Context) -> None:
        seen.append(ctx.event.data)

    rt = make_runtime(store, doomed, on_failure)
    await rt.send([Event(name="t/doomed", id="e1", data={"pr": 1})])
    await Worker(rt).run_until_idle()
    run_id = run_id_for("e1", "doomed")
    state = await run_state(store, run_id)
    assert state["status"] == "failed"
    assert "bad request 50035" in state["error"]
    assert state["attempt"] == "0"
    assert len(seen) == 1
    assert seen[0]["function_id"] == "doomed"
    assert seen[0]["run_id"] == run_id
    assert seen[0]["error"] == "NonRetriableError: bad request 50035"
    original = cast(dict[str, object], seen[0]["event"])
    assert {k: original[k] for k in ("name", "data", "id")} == {
        "name": "t/doomed",
        "data": {"pr": 1},
        "id": "e1",
    }
    assert await store.redis.zscore(store.keys.runs_failed, run_id) is not None


def _raise(exc: Exception) -> Callable[[], Awaitable[None]]:
    async def body() -> None:
        raise exc

    return body


async def test_exhausted_retries_fail_the_run_and_keep_it_inspectable(store: Store) -> None:
    calls: list[str] = []
    failures: list[str] = []

    @function("always", "t/always", retries=2)
    async def always(ctx: Context) -> None:
        await ctx.step.run("x", flaky(99, calls, "x"))

    @function("on-failure", FUNCTION_FAILED)
    async def on_failure(ctx: Context) -> None:
        failures.append(str(ctx.event.data["run_id"]))

    clock = ManualClock()
    rt = make_runtime(store, always, on_failure, clock=clock)
    await rt.send([Event(name="t/always", id="e1")])
    worker = Worker(rt)
    for _ in range(5):
        await worker.run_until_idle()
        clock.advance(60)
    run_id = run_id_for("e1", "always")
    assert calls == ["x", "x", "x"]  # first try + 2 retries
    state = await run_state(store, run_id)
    assert state["status"] == "failed"
    assert state["error"] == "ConnectionError: x failed"
    assert failures == [run_id]
    log = [json.loads(x) for x in await store.redis.lrange(store.keys.log(run_id), 0, -1)]
    assert [e["status"] for e in log] == ["error", "error", "failed"]


async def test_retry_after_reschedules_exactly(store: Store) -> None:
    calls: list[str] = []

    @function("limited", "t/limited")
    async def limited(ctx: Context) -> None:
        async def rename() -> None:
            calls.append("rename")
            if len(calls) == 1:
                raise RetryAfterError("rename limit", 599.5)

        await ctx.step.run("rename", rename)

    clock = ManualClock()
    rt = make_runtime(store, limited, clock=clock)
    await rt.send([Event(name="t/limited", id="e1")])
    worker = Worker(rt)
    start = clock.now_ms()
    await worker.run_until_idle()
    state = await run_state(store, run_id_for("e1", "limited"))
    assert int(state["next_at"]) == start + 599_500
    clock.advance(599.499)
    await worker.run_until_idle()
    assert calls == ["rename"]
    clock.advance(0.001)
    await worker.run_until_idle()
    assert calls == ["rename", "rename"]


async def test_dedup_within_24h_and_recorded_for_new_functions_after(store: Store) -> None:
    calls: list[str] = []

    @function("first", "t/*")
    async def first(ctx: Context) -> None:
        calls.append("first")

    @function("second", "t/dedup")
    async def second(ctx: Context) -> None:
        calls.append("second")

    clock = ManualClock()
    rt = make_runtime(store, first, clock=clock)
    assert [r.status for r in await rt.send([Event(name="t/dedup", id="d1")])] == ["queued"]
    clock.advance(DAY_S - 1)
    assert [r.status for r in await rt.send([Event(name="t/dedup", id="d1")])] == ["duplicate"]
    assert await store.reads.duplicates(["d1", "other"]) == [1, 0]  # counted for people
    await Worker(rt).run_until_idle()
    assert calls == ["first"]
    # Past the window a function added since gets its run; the old run is never made twice.
    clock.advance(2)
    rt2 = make_runtime(store, first, second, clock=clock)
    [result] = await rt2.send([Event(name="t/dedup", id="d1")])
    assert result.status == "queued"
    await Worker(rt2).run_until_idle()
    assert calls == ["first", "second"]


async def test_unmatched_event_is_recorded_as_ignored(store: Store) -> None:
    rt = make_runtime(store)
    [result] = await rt.send([Event(name="nobody/listens", id="n1")], meta=[{"X-A": "1"}])
    assert result.status == "ignored"
    record = json.loads(cast(str, await store.redis.get(store.keys.event("n1"))))
    assert record["event"]["name"] == "nobody/listens"
    assert record["meta"] == {"X-A": "1"}


async def test_per_key_order_with_parallel_keys(store: Store) -> None:
    order: list[tuple[str, int]] = []
    active: dict[str, int] = {}
    overlap = {"max_total": 0, "max_same_key": 0}

    @function("ordered", "t/ordered", concurrency_key=lambda e: str(e.data["key"]))
    async def ordered(ctx: Context) -> None:
        key = str(ctx.event.data["key"])
        active[key] = active.get(key, 0) + 1
        overlap["max_same_key"] = max(overlap["max_same_key"], active[key])
        overlap["max_total"] = max(overlap["max_total"], sum(active.values()))
        await asyncio.sleep(0)
        await ctx.step.run("mark", _noop)
        order.append((key, int(ctx.event.data["seq"])))
        active[key] -= 1

    rt = make_runtime(store, ordered)
    events = [
        Event(name="t/ordered", id=f"{k}{i}", data={"key": k, "seq": i})
        for i in range(6)
        for k in ("a", "b", "c")
    ]
    await rt.send(events)
    await Worker(rt, concurrency=8).run_until_idle()
    for key in "abc":
        assert [s for k, s in order if k == key] == list(range(6))
    assert overlap["max_same_key"] == 1
    assert overlap["max_total"] == 3


async def _noop() -> None:
    return None


async def test_a_retrying_run_holds_back_later_runs_of_its_key_only(store: Store) -> None:
    calls: list[str] = []

    @function("keyed", "t/keyed", concurrency_key=lambda e: str(e.data["key"]))
    async def keyed(ctx: Context) -> None:
        await ctx.step.run("x", flaky(1 if ctx.event.id == "a1" else 0, calls, ctx.event.id))

    clock = ManualClock()
    rt = make_runtime(store, keyed, clock=clock)
    await rt.send(
        [
            Event(name="t/keyed", id="a1", data={"key": "a"}),
            Event(name="t/keyed", id="a2", data={"key": "a"}),
            Event(name="t/keyed", id="b1", data={"key": "b"}),
        ]
    )
    worker = Worker(rt)
    await worker.run_until_idle()
    assert calls == ["a1", "b1"]
    clock.advance(60)
    await worker.run_until_idle()
    assert calls == ["a1", "b1", "a1", "a2"]


async def test_send_event_is_memoized(store: Store) -> None:
    received: list[str] = []
    attempts: list[int] = []

    @function("sender", "t/send")
    async def sender(ctx: Context) -> None:
        attempts.append(ctx.attempt)
        ids = await ctx.step.send_event("notify", Event(name="t/notified", data={"n": 1}))
        assert len(ids) == 1
        if ctx.attempt == 0:
            raise ConnectionError("after sending")

    @function("receiver", "t/notified")
    async def receiver(ctx: Context) -> None:
        received.append(ctx.event.id)

    clock = ManualClock()
    rt = make_runtime(store, sender, receiver, clock=clock)
    await rt.send([Event(name="t/send", id="s1")])
    worker = Worker(rt)
    await worker.run_until_idle()
    clock.advance(60)
    await worker.run_until_idle()
    assert attempts == [0, 1]
    assert received == [f"{run_id_for('s1', 'sender')}:notify:0"]


async def test_durable_sleep_frees_the_worker(store: Store) -> None:
    woke: list[int] = []

    @function("sleeper", "t/sleep")
    async def sleeper(ctx: Context) -> None:
        await ctx.step.sleep("nap", 30)
        woke.append(ctx.attempt)

    @function("other", "t/other")
    async def other(ctx: Context) -> None:
        woke.append(-1)

    clock = ManualClock()
    rt = make_runtime(store, sleeper, other, clock=clock)
    await rt.send([Event(name="t/sleep", id="z1")])
    worker = Worker(rt, concurrency=1)
    await worker.run_until_idle()
    state = await run_state(store, run_id_for("z1", "sleeper"))
    assert state["status"] == "sleeping"
    await rt.send([Event(name="t/other", id="o1")])
    await worker.run_until_idle()
    assert woke == [-1]  # the single worker slot was free while the sleeper waited
    clock.advance(29.999)
    await worker.run_until_idle()
    assert woke == [-1]
    clock.advance(0.001)
    await worker.run_until_idle()
    assert woke == [-1, 0]


async def test_repeated_step_ids_get_deterministic_suffixes(store: Store) -> None:
    @function("loop", "t/loop")
    async def loop(ctx: Context) -> list[int]:
        return [await ctx.step.run("item", _value, i) for i in range(3)]

    rt = make_runtime(store, loop)
    await rt.send([Event(name="t/loop", id="l1")])
    await Worker(rt).run_until_idle()
    steps = await store.redis.hgetall(store.keys.steps(run_id_for("l1", "loop")))
    assert sorted(steps) == ["item", "item:2", "item:3"]


async def _value(i: int) -> int:
    return i


async def test_non_json_step_result_fails_without_retry(store: Store) -> None:
    @function("bad-json", "t/bad")
    async def bad(ctx: Context) -> None:
        await ctx.step.run("obj", _object)

    rt = make_runtime(store, bad)
    await rt.send([Event(name="t/bad", id="b1")])
    await Worker(rt).run_until_idle()
    state = await run_state(store, run_id_for("b1", "bad-json"))
    assert state["status"] == "failed"
    assert "not JSON-serialisable" in state["error"]


async def _object() -> object:
    return object()


async def test_functions_sharing_a_key_share_one_ordered_queue(store: Store) -> None:
    order: list[str] = []
    active: list[str] = []

    def pr_key(e: Event) -> str:
        return f"octo/app#{e.data['pr']}"

    async def work(name: str) -> None:
        assert not active, f"{name} overlapped {active}"
        active.append(name)
        await asyncio.sleep(0)
        order.append(name)
        active.remove(name)

    @function("lifecycle", "pr/opened", concurrency_key=pr_key)
    async def lifecycle(ctx: Context) -> None:
        await ctx.step.run("post", work, ctx.event.id)

    @function("comments", "pr/comment", concurrency_key=pr_key)
    async def comments(ctx: Context) -> None:
        await ctx.step.run("post", work, ctx.event.id)

    rt = make_runtime(store, lifecycle, comments)
    await rt.send(
        [
            Event(name="pr/comment", id="c0", data={"pr": 1}),
            Event(name="pr/opened", id="o1", data={"pr": 1}),
            Event(name="pr/comment", id="c1", data={"pr": 1}),
            Event(name="pr/comment", id="c2", data={"pr": 1}),
        ]
    )
    await Worker(rt, concurrency=8).run_until_idle()
    assert order == ["c0", "o1", "c1", "c2"]


async def test_raw_json_data_is_stored_as_received_and_read_back_equal(store: Store) -> None:
    seen: list[dict[str, object]] = []

    @function("reader", "t/raw")
    async def reader(ctx: Context) -> None:
        seen.append(ctx.event.data)

    raw = '{"action": "opened", "nested": {"list": [1, 2.5, "é", null]}, "emoji": "\\ud83d\\ude80"}'
    data = json.loads(raw)
    rt = make_runtime(store, reader)
    await rt.send([Event(name="t/raw", id="r1", data=data)], meta=[{"X": "1"}], raw_data=[raw])
    record = cast(str, await store.redis.get(store.keys.event("r1")))
    assert raw in record  # the payload text itself, not a re-serialisation
    assert json.loads(record)["event"]["data"] == data
    assert json.loads(record)["meta"] == {"X": "1"}
    await Worker(rt).run_until_idle()
    assert seen == [data]
