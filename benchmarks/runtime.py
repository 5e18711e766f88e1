"""Runtime throughput: runs/s of a one-step no-op function, per worker process and with two.

`python -m benchmarks.runtime [--runs N] [--redis URL]` prints a Markdown table. The runs are
enqueued before the workers are let go, so the figure is the execution rate (claim, step save,
finish: three Lua scripts per run) rather than ingest. Worker processes are real processes
sharing one Redis (the way `prbot serve --role worker` scales); the embedded store runs in this
process for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid

import redis.asyncio as aioredis

from benchmarks.cluster import ROOT, spawn, stop_process, until
from benchmarks.table import Row
from bot.runtime import Context, Event, Function, Runtime, Store, Worker, function

GO = "go"  # the app-data key that lets worker processes start


def noop_function(done: list[int]) -> Function:
    """Return a function with one no-op step that counts completions in `done`."""

    async def nothing() -> None:
        return None

    @function("noop", "bench/noop")
    async def noop(ctx: Context) -> None:
        await ctx.step.run("noop", nothing)
        done[0] += 1

    return noop


async def enqueue(store: Store, runs: int) -> None:
    """Queue `runs` no-op runs (each its own concurrency key)."""
    runtime = Runtime(store, [noop_function([0])])
    batch = [Event(name="bench/noop", id=uuid.uuid4().hex) for _ in range(runs)]
    for i in range(0, runs, 500):
        await runtime.send(batch[i : i + 500])


async def measure_embedded(runs: int, concurrency: int) -> float:
    """Return runs/s of one in-process worker on the embedded store."""
    store = Store.connect(None, "bench")
    done = [0]
    runtime = Runtime(store, [noop_function(done)])
    await enqueue(store, runs)
    worker = Worker(runtime, concurrency)
    started = time.perf_counter()
    await worker.start()
    async with asyncio.timeout(300):
        while done[0] < runs:
            await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    await worker.stop(5)
    await store.close()
    return runs / elapsed


async def serve_worker(redis_url: str, prefix: str, concurrency: int) -> None:
    """Be one worker process: wait for the go key, then execute runs until SIGTERM."""
    store = Store.connect(redis_url, prefix)
    worker = Worker(Runtime(store, [noop_function([0])]), concurrency)
    await store.redis.incr(store.keys.data("ready"))
    while not await store.redis.exists(store.keys.data(GO)):
        await asyncio.sleep(0.002)
    await worker.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await worker.stop(5)
    await store.close()


async def measure_processes(redis_url: str, runs: int, workers: int, concurrency: int) -> float:
    """Return runs/s of `workers` worker processes sharing a fresh prefix on `redis_url`."""
    store = Store.connect(redis_url, prefix=f"bench-{uuid.uuid4().hex[:8]}")
    await enqueue(store, runs)
    command = [sys.executable, "-m", "benchmarks.runtime", "--redis", redis_url]
    command += ["--concurrency", str(concurrency), "--serve-worker", store.keys.prefix]
    procs = [spawn(command, cwd=ROOT, stdout=subprocess.DEVNULL) for _ in range(workers)]
    try:
        ready = store.keys.data("ready")
        await until(lambda: _at_least(store, ready, workers), 60, "worker processes ready")
        started = time.perf_counter()
        await store.redis.set(store.keys.data(GO), "1")
        await until(lambda: _drained(store), 300, "every run done", every_s=0.002)
        elapsed = time.perf_counter() - started
    finally:
        for proc in procs:
            stop_process(proc)
        await cleanup(store)
    return runs / elapsed


async def _at_least(store: Store, key: str, n: int) -> bool:
    return int(await store.redis.get(key) or 0) >= n


async def _drained(store: Store) -> bool:
    return int(await store.redis.zcard(store.keys.sched)) == 0


async def cleanup(store: Store) -> None:
    """Delete the benchmark's keys and close the store."""
    async for key in store.redis.scan_iter(f"{store.keys.prefix}:*", count=1000):
        await store.redis.delete(key)
    await store.close()


async def collect(runs: int, redis_url: str, concurrency: int) -> list[tuple[str, int, float]]:
    """Return (store, workers, runs/s) for 1 and 2 worker processes on Redis and embedded."""
    client = aioredis.Redis.from_url(redis_url)
    await client.ping()
    await client.aclose()
    results = []
    for workers in (1, 2):
        await measure_processes(redis_url, min(runs, 500), workers, concurrency)  # warm-up
        results.append(
            ("Redis", workers, await measure_processes(redis_url, runs, workers, concurrency))
        )
    embedded_runs = max(200, runs // 5)
    results.append(("embedded", 1, await measure_embedded(embedded_runs, concurrency)))
    return results


def rows(results: list[tuple[str, int, float]]) -> list[Row]:
    """Return the figures for the combined table."""
    out = []
    for name, workers, rate in results:
        where = (
            f"{workers} worker process{'es' if workers > 1 else ''}, one Redis"
            if name == "Redis"
            else "1 worker in process, embedded store"
        )
        out.append(
            Row("runtime", f"runs/s, {where}", f"{rate:,.0f}",
                f"{rate / workers:,.0f} per worker; one-step no-op run")
        )  # fmt: skip
    return out


async def main(runs: int, redis_url: str, concurrency: int) -> None:
    """Run every case and print the table."""
    results = await collect(runs, redis_url, concurrency)
    print("| store | workers | runs/s | runs/s per worker |")
    print("|---|---|---|---|")
    for name, workers, rate in results:
        print(f"| {name} | {workers} | {rate:,.0f} | {rate / workers:,.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/8"))
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--serve-worker", metavar="PREFIX", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_worker:
        asyncio.run(serve_worker(args.redis, args.serve_worker, args.concurrency))
    else:
        asyncio.run(main(args.runs, args.redis, args.concurrency))
