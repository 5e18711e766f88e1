"""Real worker processes with default options: SIGKILL one, another resumes within seconds."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from bot.runtime import Context, Event, Runtime, RuntimeOptions, Store, Worker, function, run_id_for
from tests.runtime.flow_worker import build, release

ROOT = Path(__file__).resolve().parents[2]
RESUME_WITHIN_S = 5.0


@contextmanager
def worker_process(redis_url: str, prefix: str) -> Iterator[subprocess.Popen[bytes]]:
    """Start a flow-test worker process; kill it on the way out."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.runtime.flow_worker", redis_url, prefix], cwd=ROOT
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


async def counter(store: Store, field: str) -> int:
    """Return one of the flow-test counters."""
    return int(float(await store.redis.hget(store.keys.data("flow-test"), field) or 0))


async def until(store: Store, field: str, value: int, timeout_s: float = 20) -> None:
    """Poll a flow-test counter until it reaches `value`."""
    async with asyncio.timeout(timeout_s):
        while await counter(store, field) < value:
            await asyncio.sleep(0.01)


@pytest.mark.slow
async def test_a_killed_workers_run_resumes_elsewhere_within_5_s(
    real_store: Store, redis_url: str
) -> None:
    store = real_store
    with ExitStack() as stack:
        procs = {}
        for _ in range(2):
            proc = stack.enter_context(worker_process(redis_url, store.keys.prefix))
            procs[proc.pid] = proc
        await until(store, "workers", 2)
        await build(store).send([Event(name="t/slow", id="s1")])
        # The worker bumps `slow:started` before it writes the pid and time: wait for those.
        await until(store, "slow:1:pid", 1)
        busy = await counter(store, "slow:1:pid")
        assert busy in procs  # never os.kill(0): that would be this test's own process group
        os.kill(busy, signal.SIGKILL)
        killed_at = time.time()
        procs[busy].wait(timeout=10)
        await until(store, "slow:2:pid", 1, timeout_s=15)
        await until(store, "slow:2:at", 1)
        resumed_at = float(await store.redis.hget(store.keys.data("flow-test"), "slow:2:at") or 0)
        await until(store, "slow:done", 1)
        key = store.keys.run(run_id_for("s1", "slow"))
        async with asyncio.timeout(10):  # the run ends just after its last step's counter
            while await store.redis.hget(key, "status") != "completed":
                await asyncio.sleep(0.01)
    took_s = resumed_at - killed_at
    assert 0 < took_s < RESUME_WITHIN_S, f"resumed {took_s:.2f} s after the kill"
    assert await counter(store, "slow:2:pid") != busy
    assert await counter(store, "one") == 1  # its completed step was not run again
    state = await store.redis.hgetall(store.keys.run(run_id_for("s1", "slow")))
    assert state["status"] == "completed"
    assert state["abandoned"] == "1"


@pytest.mark.slow
async def test_a_killed_worker_loses_no_parked_run(real_store: Store, redis_url: str) -> None:
    store = real_store
    sender = build(store)
    n = 5
    events = [Event(name="t/wait", id=f"w{i}", data={"n": i}) for i in range(n)]
    events += [Event(name="t/sleep", id=f"z{i}") for i in range(n)]
    with worker_process(redis_url, store.keys.prefix) as first:
        await until(store, "workers", 1)
        await sender.send(events)
        await until(store, "waiter:parked", n)
        await until(store, "sleeper:parked", n)
        async with asyncio.timeout(10):
            while await store.redis.zcard(store.keys.timers) < 2 * n:
                await asyncio.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    fids = {"t/wait": "waiter", "t/sleep": "sleeper"}
    runs = [store.keys.run(run_id_for(e.id, fids[e.name])) for e in events]
    statuses = [await store.redis.hget(run, "status") for run in runs]
    assert statuses == ["waiting"] * n + ["sleeping"] * n
    await sender.send([release(i) for i in range(n)])  # sent while no worker runs at all
    with worker_process(redis_url, store.keys.prefix):
        await until(store, "waiter:done", n)
        await until(store, "sleeper:done", n)
    assert await counter(store, "waiter:parked") == n
    assert await counter(store, "sleeper:parked") == n
    assert await counter(store, "waiter:timeout") == 0


@pytest.mark.slow
async def test_a_step_longer_than_the_lease_keeps_it(real_store: Store) -> None:
    starts: list[int] = []

    async def long_step() -> None:
        starts.append(1)
        await asyncio.sleep(1.5)  # the lease is 0.4 s: only the heartbeat keeps it

    def build_runtime() -> Runtime:
        @function("long", "t/long")
        async def long_fn(ctx: Context) -> None:
            await ctx.step.run("long", long_step)

        return Runtime(real_store, [long_fn], options=RuntimeOptions(lease_ms=400))

    runtimes = [build_runtime(), build_runtime()]
    workers = [Worker(rt) for rt in runtimes]
    await runtimes[0].send([Event(name="t/long", id="l1")])
    for w in workers:
        await w.start()
    try:
        key = real_store.keys.run(run_id_for("l1", "long"))
        async with asyncio.timeout(10):
            while await real_store.redis.hget(key, "status") != "completed":
                await asyncio.sleep(0.02)
    finally:
        for w in workers:
            await w.stop(timeout_s=5)
    assert starts == [1]
    assert "abandoned" not in await real_store.redis.hgetall(key)
