"""Runtime throughput: runs/s of a one-step no-op function, Redis vs embedded, 1 and 2 workers.

`python -m benchmarks.runtime [--runs N] [--redis URL]` prints a Markdown table. Events are
enqueued before the clock starts, so the figure is the workers' execution rate (claim, step save,
finish) rather than ingest.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import redis.asyncio as aioredis

from bot.runtime import Context, Event, Function, Runtime, Store, function


def noop_function(done: list[int]) -> Function:
    """Return a function with one no-op step that counts completions in `done`."""

    async def nothing() -> None:
        return None

    @function("noop", "bench/noop")
    async def noop(ctx: Context) -> None:
        await ctx.step.run("noop", nothing)
        done[0] += 1

    return noop


async def measure(store: Store, runs: int, workers: int, concurrency: int) -> float:
    """Return runs/s for `runs` queued runs executed by `workers` workers sharing `store`."""
    done = [0]
    fn = noop_function(done)
    runtimes = [Runtime(store, [fn]) for _ in range(workers)]
    batch = [Event(name="bench/noop", id=uuid.uuid4().hex) for _ in range(runs)]
    for i in range(0, runs, 500):
        await runtimes[0].send(batch[i : i + 500])
    pool = [rt.worker(concurrency) for rt in runtimes]
    started = time.perf_counter()
    for w in pool:
        await w.start()
    async with asyncio.timeout(300):
        while done[0] < runs:
            await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    for w in pool:
        await w.stop(5)
    return runs / elapsed


async def fresh_redis_store(url: str) -> Store:
    """Return a store under a fresh random prefix on the Redis at `url`."""
    client = aioredis.Redis.from_url(url)
    await client.ping()
    await client.aclose()
    return Store.connect(url, prefix=f"bench-{uuid.uuid4().hex[:8]}")


async def cleanup(store: Store) -> None:
    """Delete the benchmark's keys and close the store."""
    if not store.embedded:
        async for key in store.redis.scan_iter(f"{store.keys.prefix}:*", count=1000):
            await store.redis.delete(key)
    await store.close()


async def main(runs: int, redis_url: str, concurrency: int) -> None:
    """Run every case and print the table."""
    rows = []
    cases = [("Redis", 1), ("Redis", 2), ("embedded", 1)]
    for name, workers in cases:
        store = (
            Store.connect(None, "bench")
            if name == "embedded"
            else await fresh_redis_store(redis_url)
        )
        n = runs if name == "Redis" else max(200, runs // 5)
        await measure(store, min(n, 300), workers, concurrency)  # warm-up
        rate = await measure(store, n, workers, concurrency)
        rows.append((name, workers, n, rate))
        await cleanup(store)
    print("| store | workers (one process) | runs | runs/s | runs/s per worker |")
    print("|---|---|---|---|---|")
    for name, workers, n, rate in rows:
        print(f"| {name} | {workers} | {n} | {rate:,.0f} | {rate / workers:,.0f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.redis, args.concurrency))
