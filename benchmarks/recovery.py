"""Crash recovery: how long after a worker's SIGKILL another worker takes its run over.

`python -m benchmarks.recovery [--kills N] [--redis URL]`. Two worker processes with the
production lease (`RUN_VISIBILITY_TIMEOUT_S` 4 s, renewed every second) share one Redis. Each
round sends a run whose step blocks, SIGKILLs the worker running it 0.5-2.5 s later (so leases
have been renewed), and times until the other worker starts the step again; a fresh worker
process replaces the dead one. The figure is bounded by the lease: what was left of it at the
kill (3-4 s), plus the claim.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import time
import uuid

from benchmarks.cluster import ROOT, spawn, stop_process, until
from benchmarks.runtime import cleanup
from benchmarks.table import Row
from bot.runtime import Context, Event, Function, Runtime, RuntimeOptions, Store, Worker, function

HOLD = "bench/hold"


def holder(store: Store) -> Function:
    """Return a function whose one step notes which process runs it, then blocks for good."""

    async def hold(n: int) -> None:
        await store.redis.hset(store.keys.data("recovery", str(n)), str(os.getpid()), time.time())
        await asyncio.Event().wait()

    @function("hold", HOLD)
    async def hold_run(ctx: Context) -> None:
        await ctx.step.run("hold", hold, int(ctx.event.data["n"]))

    return hold_run


async def serve_worker(redis_url: str, prefix: str) -> None:
    """Be one worker process with the production lease, until killed."""
    store = Store.connect(redis_url, prefix)
    worker = Worker(Runtime(store, [holder(store)], options=RuntimeOptions()), concurrency=8)
    await worker.start()
    await asyncio.Event().wait()


async def _holders(store: Store, n: int) -> list[int]:
    return [int(pid) for pid in await store.redis.hkeys(store.keys.data("recovery", str(n)))]


async def measure(redis_url: str, kills: int) -> list[float]:
    """Return the seconds from each SIGKILL until another worker started the run again."""
    store = Store.connect(redis_url, prefix=f"bench-{uuid.uuid4().hex[:8]}")
    command = [sys.executable, "-m", "benchmarks.recovery", "--redis", redis_url]
    command += ["--serve-worker", store.keys.prefix]
    procs = {}
    for _ in range(2):
        proc = spawn(command, cwd=ROOT, stdout=subprocess.DEVNULL)
        procs[proc.pid] = proc
    runtime = Runtime(store, [holder(store)])
    took, rng = [], random.Random(7)
    try:
        for n in range(kills):
            await runtime.send([Event(name=HOLD, id=f"hold-{n}", data={"n": n})])
            await until(lambda n=n: _count(store, n, 1), 60, f"run {n} started")
            [pid] = await _holders(store, n)
            await asyncio.sleep(rng.uniform(0.5, 2.5))  # mid-step, leases renewed meanwhile
            killed_at = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            await until(lambda n=n: _count(store, n, 2), 60, f"run {n} resumed", every_s=0.005)
            took.append(time.monotonic() - killed_at)
            procs.pop(pid).wait()
            proc = spawn(command, cwd=ROOT, stdout=subprocess.DEVNULL)
            procs[proc.pid] = proc
    finally:
        for proc in procs.values():
            stop_process(proc)
        await cleanup(store)
    return took


async def _count(store: Store, n: int, at_least: int) -> bool:
    return len(await _holders(store, n)) >= at_least


def summary(took: list[float]) -> tuple[float, float]:
    """Return the median and the maximum."""
    return statistics.median(took), max(took)


def rows(took: list[float]) -> list[Row]:
    """Return the figure for the combined table."""
    p50, worst = summary(took)
    how = (
        f"{len(took)} SIGKILLs of the worker running a step (0.5-2.5 s into it); 2 worker "
        "processes, RUN_VISIBILITY_TIMEOUT_S 4 (renewed every second)"
    )
    return [Row("runtime", "kill → resume, p50 / max", f"{p50:.1f} / {worst:.1f} s", how)]


async def main(redis_url: str, kills: int) -> None:
    """Measure and print each kill and the summary."""
    took = await measure(redis_url, kills)
    p50, worst = summary(took)
    print(" ".join(f"{t:.2f}" for t in took))
    print(f"kill → resume over {len(took)} SIGKILLs: p50 {p50:.2f} s, max {worst:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/8"))
    parser.add_argument("--serve-worker", metavar="PREFIX", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_worker:
        asyncio.run(serve_worker(args.redis, args.serve_worker))
    else:
        asyncio.run(main(args.redis, args.kills))
