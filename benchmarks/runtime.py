"""Runtime throughput: runs/s of a one-step no-op function, per worker process and with two.

`python -m benchmarks.runtime [--runs N] [--parked N] [--redis URL]` prints a Markdown table.
The runs are enqueued before the workers are let go, so the figure is the execution rate
(claim, step save, finish: three Lua scripts per run) rather than ingest. Worker processes are
real processes sharing one Redis (the way `prbot serve --role worker` scales); the embedded
store runs in this process for comparison. Once more with thousands of runs parked in
`wait_for_event` (listening on the no-op event's own name): claiming must not slow down as
parked runs grow, since they sit in no queue.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass

import redis.asyncio as aioredis

from benchmarks.cluster import ROOT, spawn, stop_process, until
from benchmarks.table import Row, markdown
from bot.runtime import Context, Event, Function, Runtime, Store, Worker, function

GO = "go"  # the app-data key that lets worker processes start
DAY_S = 86_400


def noop_function(done: list[int]) -> Function:
    """Return a function with one no-op step that counts completions in `done`."""

    async def nothing() -> None:
        return None

    @function("noop", "bench/noop")
    async def noop(ctx: Context) -> None:
        await ctx.step.run("noop", nothing)
        done[0] += 1

    return noop


def waiter_function() -> Function:
    """Return a function whose runs wait a day for a no-op event carrying their number."""

    @function("parked", "bench/park")
    async def parked(ctx: Context) -> None:
        await ctx.step.wait_for_event("w", event="bench/noop", match="data.n", timeout_s=DAY_S)

    return parked


async def park(store: Store, runs: int, concurrency: int) -> None:
    """Leave `runs` runs parked in waits on the store (executed here, in process)."""
    runtime = Runtime(store, [waiter_function()])
    batch = [Event(name="bench/park", id=uuid.uuid4().hex, data={"n": n}) for n in range(runs)]
    for i in range(0, runs, 500):
        await runtime.send(batch[i : i + 500])
    await Worker(runtime, concurrency).run_until_idle()
    parked = await store.reads.parked()
    if parked < runs:
        raise RuntimeError(f"only {parked} of {runs} runs parked")


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


async def measure_processes(
    redis_url: str, runs: int, workers: int, concurrency: int, parked: int = 0
) -> float:
    """Return runs/s of `workers` worker processes sharing a fresh prefix on `redis_url`."""
    store = Store.connect(redis_url, prefix=f"bench-{uuid.uuid4().hex[:8]}")
    if parked:
        await park(store, parked, concurrency)
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


@dataclass(frozen=True)
class Result:
    """Runs/s of one case; with runs parked, also the same case without, measured in turn."""

    store: str  # Redis or embedded
    workers: int
    rate: float
    parked: int = 0
    unparked: float = 0.0


async def compare_parked(
    redis_url: str, runs: int, concurrency: int, parked: int, rounds: int = 3
) -> Result:
    """Return median runs/s of 1 worker with and without runs parked, in alternating rounds."""
    # Alternating: a shared machine's speed drifts between rounds more than parking changes.
    without, with_parked = [], []
    for _ in range(rounds):
        without.append(await measure_processes(redis_url, runs, 1, concurrency))
        with_parked.append(await measure_processes(redis_url, runs, 1, concurrency, parked))
    rate, unparked = statistics.median(with_parked), statistics.median(without)
    return Result("Redis", 1, rate, parked, unparked)


async def collect(
    runs: int, redis_url: str, concurrency: int, parked: int = 10_000
) -> list[Result]:
    """Return runs/s of 1 and 2 worker processes, the embedded store, 1 with runs parked."""
    client = aioredis.Redis.from_url(redis_url)
    await client.ping()
    await client.aclose()
    results = []
    for workers in (1, 2):
        await measure_processes(redis_url, min(runs, 500), workers, concurrency)  # warm-up
        rate = await measure_processes(redis_url, runs, workers, concurrency)
        results.append(Result("Redis", workers, rate))
    embedded_runs = max(200, runs // 5)
    results.append(Result("embedded", 1, await measure_embedded(embedded_runs, concurrency)))
    results.append(await compare_parked(redis_url, runs, concurrency, parked))
    return results


def rows(results: list[Result]) -> list[Row]:
    """Return the figures for the combined table."""
    out = []
    for r in results:
        if r.parked:
            how = (
                f"none parked: {r.unparked:,.0f} ({r.rate / r.unparked:.2f}×), median of "
                "alternating rounds; one-step no-op run"
            )
            figure = f"runs/s, 1 worker process, {r.parked:,} runs parked in waits"
            out.append(Row("runtime", figure, f"{r.rate:,.0f}", how))
            continue
        where = (
            f"{r.workers} worker process{'es' if r.workers > 1 else ''}, one Redis"
            if r.store == "Redis"
            else "1 worker in process, embedded store"
        )
        out.append(
            Row("runtime", f"runs/s, {where}", f"{r.rate:,.0f}",
                f"{r.rate / r.workers:,.0f} per worker; one-step no-op run")
        )  # fmt: skip
    return out


async def main(runs: int, redis_url: str, concurrency: int, parked: int) -> None:
    """Run every case and print the table."""
    results = await collect(runs, redis_url, concurrency, parked)
    print(markdown(rows(results)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/8"))
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--parked", type=int, default=10_000, help="runs parked in waits")
    parser.add_argument("--serve-worker", metavar="PREFIX", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_worker:
        asyncio.run(serve_worker(args.redis, args.serve_worker, args.concurrency))
    else:
        asyncio.run(main(args.runs, args.redis, args.concurrency, args.parked))
