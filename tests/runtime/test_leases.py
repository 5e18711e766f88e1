"""Leases: renewing tells a finished run from one another worker took over."""

from __future__ import annotations

from bot.runtime import Context, Event, ManualClock, RuntimeOptions, Store, function
from tests.runtime.test_contract import make_runtime


async def test_extend_reports_only_keys_another_worker_holds(store: Store) -> None:
    @function("two", "t/two")
    async def two(ctx: Context) -> None:
        return None

    clock = ManualClock()
    rt = make_runtime(store, two, clock=clock)
    await rt.send([Event(name="t/two", id="a"), Event(name="t/two", id="b")])
    lease_ms = rt.options.lease_ms
    first, second = (await store.claim(clock.now_ms(), lease_ms, 10)).claims
    # `first` ends: its key is free, which is no loss for the heartbeat.
    assert await store.finish(first, "completed", "output", "null", clock.now_ms(), None) == 1
    # `second` outlives its lease and another worker claims it.
    clock.advance(lease_ms / 1000)
    [taken] = (await store.claim(clock.now_ms(), lease_ms, 10)).claims
    assert taken.key == second.key and taken.token != second.token
    leases = [(first.key, first.token), (second.key, second.token)]
    assert await store.extend(leases, clock.now_ms() + lease_ms) == [second.key]
    assert await store.extend([(taken.key, taken.token)], clock.now_ms() + 2 * lease_ms) == []
    assert await store.reads.next_due_ms() == clock.now_ms() + 2 * lease_ms


def test_the_default_lease_brings_a_dead_workers_run_back_within_5_s() -> None:
    options = RuntimeOptions()
    assert options.lease_ms < 5_000
    assert options.heartbeat_every_ms * 3 <= options.lease_ms  # three beats may fail in a row
    assert RuntimeOptions(lease_ms=900).heartbeat_every_ms == 225
    assert RuntimeOptions(lease_ms=900, heartbeat_ms=100).heartbeat_every_ms == 100
