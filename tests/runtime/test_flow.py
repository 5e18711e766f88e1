"""Debounce, throttle, idempotency and cron triggers, on both stores with a manual clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.runtime import (
    CRON_TICK,
    Context,
    Cron,
    Debounce,
    Event,
    ManualClock,
    Store,
    Throttle,
    Worker,
    function,
    run_id_for,
)
from tests.runtime.test_contract import make_runtime, run_state


def at(clock: ManualClock, start: int, seconds: float) -> None:
    """Move `clock` to `seconds` after `start`."""
    clock.set(start + int(seconds * 1000))


async def test_debounce_runs_once_per_key_with_the_last_event(store: Store) -> None:
    ran: list[str] = []

    @function("deb", "t/deb", debounce=Debounce(5, key="data.k"))
    async def deb(ctx: Context) -> None:
        ran.append(ctx.event.id)

    clock = ManualClock()
    start = clock.now_ms()
    rt = make_runtime(store, deb, clock=clock)
    worker = Worker(rt)
    for seconds, eid, key in ((0, "e1", "a"), (2, "e2", "a"), (3, "e3", "b"), (4, "e4", "a")):
        at(clock, start, seconds)
        [result] = await rt.send([Event(name="t/deb", id=eid, data={"k": key})])
        assert result.status == "queued"
        await worker.run_until_idle()
    at(clock, start, 7.999)
    await worker.run_until_idle()
    assert ran == []
    at(clock, start, 8)  # b: 5 s after its only event
    await worker.run_until_idle()
    assert ran == ["e3"]
    at(clock, start, 8.999)
    await worker.run_until_idle()
    assert ran == ["e3"]
    at(clock, start, 9)  # a: 5 s after its last event
    await worker.run_until_idle()
    assert ran == ["e3", "e4"]
    clock.advance(60)
    await worker.run_until_idle()
    assert ran == ["e3", "e4"]
    assert (await run_state(store, run_id_for("e4", "deb")))["status"] == "completed"
    assert await run_state(store, run_id_for("e1", "deb")) == {}


async def test_debounce_runs_by_max_wait_in_a_steady_stream(store: Store) -> None:
    ran: list[str] = []

    @function("steady", "t/steady", debounce=Debounce(5, max_wait_s=12))
    async def steady(ctx: Context) -> None:
        ran.append(ctx.event.id)

    clock = ManualClock()
    start = clock.now_ms()
    rt = make_runtime(store, steady, clock=clock)
    worker = Worker(rt)
    for seconds in (0, 4, 8, 11):
        at(clock, start, seconds)
        await rt.send([Event(name="t/steady", id=f"s{seconds}")])
        await worker.run_until_idle()
    at(clock, start, 11.999)
    await worker.run_until_idle()
    assert ran == []
    at(clock, start, 12)  # 12 s after the first, though the last came 1 s ago
    await worker.run_until_idle()
    assert ran == ["s11"]
    at(clock, start, 13)  # a new burst starts a new window
    await rt.send([Event(name="t/steady", id="s13")])
    at(clock, start, 17.999)
    await worker.run_until_idle()
    assert ran == ["s11"]
    at(clock, start, 18)
    await worker.run_until_idle()
    assert ran == ["s11", "s13"]


async def test_throttle_lets_runs_start_in_order_none_dropped(store: Store) -> None:
    ran: list[str] = []

    @function("thr", "t/thr", throttle=Throttle(2, 60, key="data.k"))
    async def thr(ctx: Context) -> None:
        ran.append(ctx.event.id)

    clock = ManualClock()
    rt = make_runtime(store, thr, clock=clock)
    worker = Worker(rt)
    await rt.send([Event(name="t/thr", id=f"a{i}", data={"k": "a"}) for i in range(5)])
    await rt.send([Event(name="t/thr", id="b0", data={"k": "b"})])
    await worker.run_until_idle()
    # Runs of different concurrency keys run side by side: compare what started per window.
    assert sorted(ran) == ["a0", "a1", "b0"]  # each throttle key has its own limit
    assert (await run_state(store, run_id_for("a2", "thr")))["status"] == "queued"
    clock.advance(59.999)
    await worker.run_until_idle()
    assert len(ran) == 3
    clock.advance(0.001)
    await worker.run_until_idle()
    assert sorted(ran[3:]) == ["a2", "a3"]  # the oldest waiting first
    clock.advance(30)
    await rt.send([Event(name="t/thr", id="a5", data={"k": "a"})])
    await worker.run_until_idle()
    assert len(ran) == 5
    clock.advance(30)
    await worker.run_until_idle()
    assert sorted(ran[5:]) == ["a4", "a5"]


async def test_idempotency_allows_one_run_per_key_per_day(store: Store) -> None:
    ran: list[str] = []

    @function("by-path", "t/idem", idempotency="data.user")
    async def by_path(ctx: Context) -> None:
        ran.append(f"path:{ctx.event.id}")

    @function("by-fn", "t/idem", idempotency=lambda e: str(e.data["user"]).lower())
    async def by_fn(ctx: Context) -> None:
        ran.append(f"fn:{ctx.event.id}")

    clock = ManualClock()
    rt = make_runtime(store, by_path, by_fn, clock=clock)
    worker = Worker(rt)
    results = await rt.send(
        [
            Event(name="t/idem", id="e1", data={"user": "Ann"}),
            Event(name="t/idem", id="e2", data={"user": "Ann"}),
            Event(name="t/idem", id="e3", data={"user": "ann"}),
            Event(name="t/idem", id="e4", data={"user": "bo"}),
        ]
    )
    assert [r.status for r in results] == ["queued", "duplicate", "queued", "queued"]
    await worker.run_until_idle()
    assert sorted(ran) == sorted(["path:e1", "fn:e1", "path:e3", "path:e4", "fn:e4"])
    clock.advance(86_399)
    await rt.send([Event(name="t/idem", id="e5", data={"user": "Ann"})])
    await worker.run_until_idle()
    assert len(ran) == 5
    clock.advance(1)
    await rt.send([Event(name="t/idem", id="e6", data={"user": "Ann"})])
    await worker.run_until_idle()
    assert sorted(ran[5:]) == ["fn:e6", "path:e6"]


def utc_ms(text: str) -> int:
    """Return the epoch ms of an ISO UTC time."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


async def test_cron_ticks_once_across_workers_and_once_after_downtime(store: Store) -> None:
    ticks: list[tuple[str, str]] = []

    def build(name: str) -> Worker:
        @function("daily", Cron("0 9 * * 1-5", tz="Europe/Paris"))
        async def daily(ctx: Context) -> None:
            assert ctx.event.name == CRON_TICK
            ticks.append((name, str(ctx.event.data["tick"])))

        return Worker(make_runtime(store, daily, clock=clock))

    # Monday 8 January 2024, 08:00 in Paris (UTC+1 in winter).
    clock = ManualClock(start_ms=utc_ms("2024-01-08T07:00:00"))
    workers = [build("w1"), build("w2")]

    async def round_() -> None:
        for w in workers:
            await w.run_until_idle()

    await round_()
    assert ticks == []  # a schedule first seen starts with its next tick
    clock.set(utc_ms("2024-01-08T07:59:59.999"))
    await round_()
    assert ticks == []
    clock.set(utc_ms("2024-01-08T08:00:00"))
    await round_()
    await round_()
    assert [t for _, t in ticks] == ["2024-01-08T08:00:00Z"]
    clock.set(utc_ms("2024-01-09T08:00:30"))
    await round_()
    assert [t for _, t in ticks][1:] == ["2024-01-09T08:00:00Z"]
    # Down from Tuesday to the next Monday 09:30: four ticks missed, only the latest runs.
    clock.set(utc_ms("2024-01-15T08:30:00"))
    await round_()
    await round_()
    assert [t for _, t in ticks][2:] == ["2024-01-15T08:00:00Z"]
    run_id = run_id_for(f"cron-daily-{utc_ms('2024-01-15T08:00:00')}", "daily")
    assert (await run_state(store, run_id))["status"] == "completed"


def test_cron_needs_a_valid_expression_and_zone() -> None:
    with pytest.raises(ValueError):
        Cron("61 * * * *")
    with pytest.raises(ValueError):
        Cron("0 9 * * *", tz="Mars/Olympus")
    daily = Cron("0 9 * * *", tz="Europe/Paris")
    summer = utc_ms("2024-07-01T07:00:00")  # 09:00 in Paris in summer (UTC+2)
    assert daily.last_tick_ms(summer) == summer
    assert daily.next_tick_ms(summer) == summer + 86_400_000
