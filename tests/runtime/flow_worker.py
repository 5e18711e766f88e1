"""A worker process with default options: `python -m tests.runtime.flow_worker REDIS_URL PREFIX`.

Its functions count what they do in the app-data hash `flow-test`, so the test process can see
which worker started what, and when (wall-clock seconds, both processes on one machine).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from bot.runtime import Context, Event, Function, Runtime, Store, Worker, function

SLEEP_S = 4.0
WAIT_S = 600.0


def functions(store: Store) -> list[Function]:
    """Return the test's functions: one slow step, a long sleep and a wait for an event."""
    counter = store.keys.data("flow-test")

    async def mark(name: str) -> str:
        await store.redis.hincrby(counter, name, 1)
        return name

    async def slow() -> str:
        started = await store.redis.hincrby(counter, "slow:started", 1)
        await store.redis.hset(counter, f"slow:{started}:pid", os.getpid())
        await store.redis.hset(counter, f"slow:{started}:at", repr(time.time()))
        if started == 1:
            await asyncio.Event().wait()  # the first attempt hangs until its worker is killed
        return "slow"

    @function("slow", "t/slow")
    async def slow_fn(ctx: Context) -> None:
        await ctx.step.run("one", mark, "one")
        await ctx.step.run("slow", slow)
        await ctx.step.run("done", mark, "slow:done")

    @function("sleeper", "t/sleep")
    async def sleeper(ctx: Context) -> None:
        await ctx.step.run("parked", mark, "sleeper:parked")
        await ctx.step.sleep("nap", SLEEP_S)
        await ctx.step.run("done", mark, "sleeper:done")

    @function("waiter", "t/wait")
    async def waiter(ctx: Context) -> None:
        await ctx.step.run("parked", mark, "waiter:parked")
        found = await ctx.step.wait_for_event(
            "release", event="t/release", match="data.n", timeout_s=WAIT_S
        )
        await ctx.step.run("done", mark, "waiter:done" if found else "waiter:timeout")

    return [slow_fn, sleeper, waiter]


def build(store: Store) -> Runtime:
    """Return a runtime with the test's functions and the default options."""
    return Runtime(store, functions(store))


async def main(redis_url: str, prefix: str) -> None:
    """Run a worker until killed."""
    store = Store.connect(redis_url, prefix)
    worker = Worker(build(store), concurrency=16)
    await worker.start()
    await store.redis.hincrby(store.keys.data("flow-test"), "workers", 1)
    await asyncio.Event().wait()


def release(n: int) -> Event:
    """Return the event that releases the waiter of number `n`."""
    return Event(name="t/release", id=f"release-{n}", data={"n": n})


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
