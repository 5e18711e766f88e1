"""A worker process for the crash test: `python -m tests.runtime.crash_worker REDIS_URL PREFIX`."""

from __future__ import annotations

import asyncio
import sys

from bot.runtime import Context, Runtime, RuntimeOptions, Store, Worker, function

LEASE_MS = 1_000


def build(store: Store) -> Runtime:
    """Return a runtime with one three-step function whose steps count themselves in Redis."""
    counter = store.keys.data("crash-test")

    async def effect(name: str) -> str:
        await store.redis.hincrby(counter, f"{name}:started", 1)
        if name == "three":
            # Block until the test says go: the first worker is killed while waiting here.
            while not await store.redis.hget(counter, "go"):
                await asyncio.sleep(0.02)
        await store.redis.hincrby(counter, f"{name}:done", 1)
        return name

    @function("crashy", "t/crash")
    async def crashy(ctx: Context) -> list[str]:
        return [await ctx.step.run(s, effect, s) for s in ("one", "two", "three")]

    return Runtime(store, [crashy], options=RuntimeOptions(lease_ms=LEASE_MS))


async def main(redis_url: str, prefix: str) -> None:
    """Run a worker until killed."""
    store = Store.connect(redis_url, prefix)
    worker = Worker(build(store), concurrency=4)
    await worker.start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
