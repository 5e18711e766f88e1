"""Run states as people see them: the run hash and `prbot runs show` for waiting and cancelled."""

from __future__ import annotations

from bot.runtime import Cancel, Context, Event, ManualClock, Store, Worker, function, run_id_for
from bot.runtime.inspect import format_run, get_run
from tests.runtime.test_contract import make_runtime


async def test_show_tells_what_a_run_waits_for_and_who_cancelled_it(store: Store) -> None:
    @function("review", "pr/opened", cancel_on=[Cancel(event="pr/closed", match="data.pr")])
    async def review(ctx: Context) -> None:
        await ctx.step.run("first", _noop)
        await ctx.step.wait_for_event("r", event="pr/review", match="data.pr", timeout_s=7_200)

    clock = ManualClock()
    rt = make_runtime(store, review, clock=clock)
    await rt.send([Event(name="pr/opened", id="o1", data={"pr": 1})])
    await Worker(rt).run_until_idle()
    run_id = run_id_for("o1", "review")
    clock.advance(1_800)
    detail = await get_run(store, run_id)
    assert detail is not None
    shown = format_run(detail, clock.now_ms())
    assert "status    waiting" in shown
    assert "waiting   for pr/review (times out in 1h)" in shown
    steps = [line.split()[1:3] for line in shown.splitlines() if line.startswith("+")]
    assert steps == [["first", "ok"], ["r", "waiting"]]
    assert "pr/review until +2h" in shown
    assert await store.reads.parked() == 1
    await rt.send([Event(name="pr/closed", id="c1", data={"pr": 1})])
    detail = await get_run(store, run_id)
    assert detail is not None
    shown = format_run(detail, clock.now_ms())
    assert "status    cancelled" in shown
    assert "cancelled by event c1" in shown
    assert "waiting   for" not in shown
    assert [line.split()[1:3] for line in shown.splitlines() if line.startswith("+")][-1] == [
        "$cancel", "cancelled",
    ]  # fmt: skip
    assert await store.reads.parked() == 0


async def _noop() -> None:
    return None


async def sleep_once(store: Store) -> list[str]:
    """Run one function that sleeps a second on `store`; return the events it finished."""
    done: list[str] = []

    @function("odd", "t/odd")
    async def odd_fn(ctx: Context) -> None:
        await ctx.step.sleep("nap", 1)
        done.append(ctx.event.id)

    clock = ManualClock()
    rt = make_runtime(store, odd_fn, clock=clock)
    await rt.send([Event(name="t/odd", id="x1")])
    await Worker(rt).run_until_idle()
    clock.advance(1)
    await Worker(rt).run_until_idle()
    return done


async def test_any_prefix_survives_being_written_into_the_scripts(redis_url: str) -> None:
    odd = 'pr bot "é\\9\n'  # quotes, a backslash then a digit, a newline, a non-ASCII letter
    for url in (None, redis_url):
        store = Store.connect(url, prefix=odd)
        try:
            await store.redis.flushdb()
            assert await sleep_once(store) == ["x1"]
            assert await store.redis.exists(store.keys.run(run_id_for("x1", "odd"))) == 1
            assert await store.redis.exists(store.keys.timers) == 0
        finally:
            await store.close()
