"""Every key has a bounded life: DELIVERY_MAX bounds what events leave, runs keep their input."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from bot.runtime import (
    FUNCTION_FAILED,
    Cancel,
    Context,
    Cron,
    Debounce,
    Event,
    Function,
    ManualClock,
    RetryAfterError,
    Store,
    Throttle,
    Worker,
    cancel_run,
    current_run_id,
    function,
    rerun,
    run_id_for,
)
from tests.runtime.test_contract import make_runtime

DAY_S = 86_400
# Long enough for Redis to have expired a key with a TTL this short (read lazily on access).
SHORT_TTL_MS = 100


async def keys_of(store: Store, pattern: str) -> list[str]:
    """Return the store's keys matching `pattern` after the prefix."""
    found = [k async for k in store.redis.scan_iter(match=f"{store.keys.prefix}:{pattern}")]
    return sorted(str(k) for k in found)


async def noop() -> str:
    return "ok"


async def test_trimming_the_events_index_deletes_what_the_dropped_events_left(
    store: Store,
) -> None:
    @function("two-steps", "t/go")
    async def two_steps(ctx: Context) -> None:
        await ctx.step.run("a", noop)
        await ctx.step.run("b", noop)

    store.limits = replace(store.limits, events_max=3)
    clock = ManualClock()
    rt = make_runtime(store, two_steps, clock=clock)
    for i in range(10):
        await rt.send([Event(name="t/go", id=f"e{i}", data={"n": i})])
        await Worker(rt).run_until_idle()
        clock.advance(1)
    kept = ["e7", "e8", "e9"]
    assert await store.redis.zrange(store.keys.events, 0, -1) == kept
    assert await keys_of(store, "event:*") == sorted(
        [store.keys.event(e) for e in kept] + [store.keys.holds(e) for e in kept]
    )
    runs = [run_id_for(e, "two-steps") for e in kept]
    assert sorted(await store.redis.zrange(store.keys.runs, 0, -1)) == sorted(runs)
    left = await keys_of(store, "run:*")
    assert left == sorted(k for r in runs for k in (store.keys.run(r), store.keys.steps(r),
                                                    store.keys.log(r)))  # fmt: skip


def slow_rename(retries: int, failures: int, tries: list[str]) -> Function:
    """Return a function whose step meets a three-day rate limit `failures` times."""

    async def rename_step(title: str) -> str:
        tries.append(title)
        if len(tries) <= failures:
            raise RetryAfterError("rename limit", 3 * DAY_S)
        return title

    @function("rename", "t/rename", retries=retries)
    async def rename(ctx: Context) -> str:
        return str(await ctx.step.run("rename", rename_step, str(ctx.event.data["title"])))

    return rename


async def wait_out_a_short_ttl() -> None:
    # The record's TTL (retention) is SHORT_TTL_MS of Redis's own time; the run waits days of
    # the injected clock. Let Redis's time pass too, so a record with a TTL would be gone.
    await asyncio.sleep(3 * SHORT_TTL_MS / 1000)


async def test_a_run_waiting_out_a_limit_far_past_retention_keeps_its_event(
    store: Store,
) -> None:
    tries: list[str] = []
    store.limits = replace(store.limits, events_max=2, event_ttl_ms=SHORT_TTL_MS)
    clock = ManualClock()
    rt = make_runtime(store, slow_rename(4, 1, tries), clock=clock)
    await rt.send([Event(name="t/rename", id="r1", data={"title": "New title"})])
    await Worker(rt).run_until_idle()
    run_id = run_id_for("r1", "rename")
    assert (await store.redis.hgetall(store.keys.run(run_id)))["status"] == "retrying"
    assert await store.redis.pttl(store.keys.event("r1")) == -1  # held by its run: no TTL
    await wait_out_a_short_ttl()
    clock.advance(3 * DAY_S)
    await rt.send([Event(name="t/other", id=f"o{i}") for i in range(5)])  # trims r1 out
    assert "r1" not in await store.redis.zrange(store.keys.events, 0, -1)
    await Worker(rt).run_until_idle()
    state = await store.redis.hgetall(store.keys.run(run_id))
    assert state == {}  # completed, and gone with its event: the index dropped it long ago
    assert tries == ["New title", "New title"]
    assert await store.redis.exists(store.keys.event("r1"), store.keys.holds("r1")) == 0
    assert await store.redis.zrange(store.keys.runs_failed, 0, -1) == []


async def test_a_run_failing_after_a_long_wait_still_sends_its_failure_event(
    store: Store,
) -> None:
    tries: list[str] = []
    failed: list[str] = []

    @function("on-failed", FUNCTION_FAILED)
    async def on_failed(ctx: Context) -> None:
        failed.append(str(ctx.event.data["event"]["data"]["title"]))

    store.limits = replace(store.limits, event_ttl_ms=SHORT_TTL_MS)
    clock = ManualClock()
    rt = make_runtime(store, slow_rename(2, 3, tries), on_failed, clock=clock)
    await rt.send([Event(name="t/rename", id="r1", data={"title": "New title"})])
    for _ in range(3):
        await Worker(rt).run_until_idle()
        await wait_out_a_short_ttl()
        clock.advance(3 * DAY_S)
    await Worker(rt).run_until_idle()
    state = await store.redis.hgetall(store.keys.run(run_id_for("r1", "rename")))
    assert state["status"] == "failed"
    assert state["error"] == "RetryAfterError: rename limit"  # not "event record expired"
    assert failed == ["New title"]


async def test_a_waiting_run_keeps_the_event_it_was_offered(store: Store) -> None:
    got: list[object] = []

    @function("waits", "t/ask")
    async def waits(ctx: Context) -> None:
        reply = await ctx.step.wait_for_event("reply", event="t/reply", timeout_s=3_600)
        got.append(reply.data["answer"] if reply else None)

    store.limits = replace(store.limits, events_max=2)
    clock = ManualClock()
    rt = make_runtime(store, waits, clock=clock)
    await rt.send([Event(name="t/ask", id="ask")])
    await Worker(rt).run_until_idle()
    clock.advance(1)
    await rt.send([Event(name="t/reply", id="reply", data={"answer": 42})])
    clock.advance(1)
    # A burst before any worker claims the woken run: the reply leaves the index.
    await rt.send([Event(name="t/noise", id=f"n{i}") for i in range(5)])
    assert "reply" not in await store.redis.zrange(store.keys.events, 0, -1)
    await Worker(rt).run_until_idle()
    assert got == [42]
    assert await store.redis.exists(store.keys.event("reply"), store.keys.event("ask")) == 0


async def test_a_pending_debounce_keeps_its_event(store: Store) -> None:
    got: list[object] = []

    @function("deb", "t/deb", debounce=Debounce(60))
    async def deb(ctx: Context) -> None:
        got.append(ctx.event.data["n"])

    store.limits = replace(store.limits, events_max=2)
    clock = ManualClock()
    rt = make_runtime(store, deb, clock=clock)
    await rt.send([Event(name="t/deb", id="d1", data={"n": 1})])
    clock.advance(1)
    await rt.send([Event(name="t/deb", id="d2", data={"n": 2})])
    clock.advance(1)
    await rt.send([Event(name="t/noise", id=f"n{i}") for i in range(5)])
    assert await store.redis.exists(store.keys.event("d1")) == 0  # replaced: let go at once
    clock.advance(61)
    await Worker(rt).run_until_idle()
    assert got == [2]
    assert await store.redis.exists(store.keys.event("d2")) == 0


async def test_a_cancelled_run_keeps_its_event_until_its_cancelled_event_is_sent(
    store: Store,
) -> None:
    seen: list[object] = []

    @function("nap", "t/nap")
    async def nap(ctx: Context) -> None:
        await ctx.step.sleep("nap", 3_600)

    @function("on-cancelled", "prbot/function.cancelled")
    async def on_cancelled(ctx: Context) -> None:
        seen.append(ctx.event.data["event"]["data"]["n"])

    store.limits = replace(store.limits, events_max=1)
    clock = ManualClock()
    rt = make_runtime(store, nap, on_cancelled, clock=clock)
    await rt.send([Event(name="t/nap", id="n1", data={"n": 7})])
    await Worker(rt).run_until_idle()
    clock.advance(1)
    await rt.send([Event(name="t/noise", id="x")])
    assert await store.redis.exists(store.keys.event("n1")) == 1  # held by its sleeping run
    assert await cancel_run(rt, run_id_for("n1", "nap")) == "cancelled"
    await Worker(rt).run_until_idle()
    assert seen == [7]
    assert (
        await store.redis.exists(store.keys.event("n1"), store.keys.run(run_id_for("n1", "nap")))
        == 0
    )


async def test_failed_runs_leave_after_their_time_with_their_keys(store: Store) -> None:
    @function("fails", "t/fails", retries=0)
    async def fails(ctx: Context) -> None:
        raise ValueError("no")

    clock = ManualClock()
    rt = make_runtime(store, fails, clock=clock)
    await rt.send([Event(name="t/fails", id="f1")])
    await Worker(rt).run_until_idle()
    run_id = run_id_for("f1", "fails")
    assert await store.redis.zrange(store.keys.runs_failed, 0, -1) == [run_id]
    assert 0 < await store.redis.pttl(store.keys.run(run_id)) <= store.limits.failed_ttl_ms
    clock.advance(31 * DAY_S)
    await rt.send([Event(name="t/fails", id="f2")])  # the next failure trims the index
    await Worker(rt).run_until_idle()
    assert await store.redis.zrange(store.keys.runs_failed, 0, -1) == [run_id_for("f2", "fails")]
    assert await store.redis.exists(store.keys.run(run_id), store.keys.log(run_id)) == 0


async def test_reruns_count_expires_and_a_taken_number_is_skipped(store: Store) -> None:
    @function("again", "t/again")
    async def again(ctx: Context) -> None:
        await ctx.step.sleep("nap", 3_600)  # the reruns stay alive

    rt = make_runtime(store, again)
    await rt.send([Event(name="t/again", id="a1")])
    await Worker(rt).run_until_idle()
    first = run_id_for("a1", "again")
    assert await rerun(rt, first) == f"{first}-r1"
    ttl = await store.redis.pttl(store.keys.reruns(first))
    assert 0 < ttl <= store.limits.failed_ttl_ms
    await store.redis.delete(store.keys.reruns(first))  # as if it had expired
    assert await rerun(rt, first) == f"{first}-r2"  # -r1 still lives: never reused


async def test_a_lock_taken_in_a_run_goes_when_the_run_ends(store: Store) -> None:
    seen: list[bool] = []

    async def take(name: str) -> bool:
        return await store.data.lock(name, "t", 1_000, current_run_id())

    @function("locks", "t/locks")
    async def locks(ctx: Context) -> None:
        seen.append(await ctx.step.run("take", take, "effect:x"))
        seen.append(await ctx.step.run("again", take, "effect:x"))  # re-entered: same token
        await ctx.step.sleep("nap", 60)

    clock = ManualClock()
    rt = make_runtime(store, locks, clock=clock)
    await rt.send([Event(name="t/locks", id="l1")])
    await Worker(rt).run_until_idle()
    run_id = run_id_for("l1", "locks")
    assert seen == [True, True]
    assert await store.redis.hgetall(store.keys.claims(run_id)) == {"effect:x": "t"}
    assert await store.data.lock("effect:x", "u", 1_000, run_id) is False  # held by "t"
    assert await store.data.lock("effect:y", "u", 1_000, run_id) is False  # sleeping: no new
    clock.advance(61)
    await Worker(rt).run_until_idle()
    assert await store.redis.exists(store.keys.claims(run_id)) == 0
    assert await keys_of(store, "data:*") == []


def every_feature() -> list[Function]:
    """Return functions that use waits, cancels, debounce, throttle, idempotency, cron, failures."""
    closed = Cancel(event="t/closed", match="data.pr")

    @function("plain", "t/go")
    async def plain(ctx: Context) -> None:
        await ctx.step.run("a", noop)

    @function("waits", "t/go", cancel_on=[closed])
    async def waits(ctx: Context) -> None:
        await ctx.step.wait_for_event("r", event="t/reply", match="data.pr", timeout_s=600)

    @function("deb", "t/go", debounce=Debounce(30, key="data.pr"))
    async def deb(ctx: Context) -> None:
        await ctx.step.run("a", noop)

    @function("thr", "t/go", throttle=Throttle(1, 60), idempotency="data.n")
    async def thr(ctx: Context) -> None:
        await ctx.step.run("a", noop)

    @function("fails", "t/go", retries=0)
    async def fails(ctx: Context) -> None:
        raise ValueError("no")

    @function("tick", Cron("*/5 * * * *"))
    async def tick(ctx: Context) -> None:
        await ctx.step.run("a", noop)

    return [plain, waits, deb, thr, fails, tick]


async def without_ttl(store: Store) -> list[str]:
    """Return the keys that have no TTL, but for the three indexes (bounded by count)."""
    indexes = {store.keys.events, store.keys.runs, store.keys.runs_failed}
    found = []
    for key in await keys_of(store, "*"):
        if key not in indexes and await store.redis.pttl(key) < 0:
            found.append(key)
    return found


async def test_every_key_left_behind_is_bounded(store: Store) -> None:
    store.limits = replace(store.limits, events_max=5)
    clock = ManualClock(start_ms=1_700_000_000_000)
    rt = make_runtime(store, *every_feature(), clock=clock)
    for i in range(20):
        pr = i % 4
        await rt.send([Event(name="t/go", id=f"g{i}", data={"pr": pr, "n": i})])
        if i % 3 == 0:
            await rt.send([Event(name="t/reply", id=f"r{i}", data={"pr": pr})])
        if i % 5 == 0:
            await rt.send([Event(name="t/closed", id=f"c{i}", data={"pr": pr})])
        await Worker(rt).run_until_idle()
        clock.advance(200)
    await rerun(rt, run_id_for("g19", "plain"))
    clock.advance(DAY_S)
    await Worker(rt).run_until_idle()
    clock.advance(DAY_S)
    await rt.send([Event(name="t/noise", id="last")])
    await Worker(rt).run_until_idle()

    assert await without_ttl(store) == []
    assert await store.redis.zcard(store.keys.events) == 5
    assert len(await keys_of(store, "event:*[^s]")) <= 5  # records: those indexed, no more
    assert await store.redis.zcard(store.keys.runs_failed) <= 5
    for global_key in ("sched", "lease", "timers", "cancelled"):
        assert await store.redis.exists(f"{store.keys.prefix}:{global_key}") == 0


@pytest.mark.parametrize("held", [False, True])
async def test_a_record_sent_again_keeps_the_lifetime_its_holds_give(
    store: Store, held: bool
) -> None:
    @function("nap", "t/nap")
    async def nap(ctx: Context) -> None:
        await ctx.step.sleep("nap", 3_600)

    rt = make_runtime(store, nap)
    await rt.send([Event(name="t/nap" if held else "t/none", id="s1")])
    await Worker(rt).run_until_idle()
    await rt.send([Event(name="t/none", id="s1")], replay=True)  # stored again, no dedup
    ttl = await store.redis.pttl(store.keys.event("s1"))
    assert (ttl == -1) if held else (0 < ttl <= store.limits.event_ttl_ms)
