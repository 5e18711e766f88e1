"""`prbot serve` with one test function whose steps count themselves in Redis.

    python -m tests.deploy.shutdown_service PORT   (settings from the environment)

Step `one` is quick; step `two` blocks until the test sets the `go` field, so a SIGTERM finds it
in flight. Everything else is the real `serve`: signals, draining, worker stop, release, exit code.
"""

from __future__ import annotations

import asyncio
import sys

import redis.asyncio as aioredis

from bot.ops.logs import configure
from bot.ops.serve import serve
from bot.runtime import Context, Function, function
from bot.runtime.keys import Keys
from bot.settings import Settings, load_settings, read_environment

FUNCTION_ID = "two-steps"


def counter_key(settings: Settings) -> str:
    """Return the Redis hash the steps count in."""
    return Keys(settings.redis_key_prefix).data("shutdown-test")


def build(settings: Settings, client: aioredis.Redis) -> Function:
    """Return the two-step function, counting into `client`."""
    key = counter_key(settings)

    async def effect(name: str) -> str:
        await client.hincrby(key, f"{name}:started", 1)
        while name == "two" and not await client.hget(key, "go"):
            await asyncio.sleep(0.02)  # held in flight until the test says go
        await client.hincrby(key, f"{name}:done", 1)
        return name

    @function(FUNCTION_ID, "github/pull_request.*")
    async def two_steps(ctx: Context) -> list[str]:
        return [await ctx.step.run(name, effect, name) for name in ("one", "two")]

    return two_steps


async def main(port: int) -> int:
    """Serve until SIGTERM; return serve's exit code."""
    settings = load_settings(read_environment(dotenv=None))
    configure(settings.log_level, settings.log_format)
    client = aioredis.Redis.from_url(settings.redis_url or "", decode_responses=True)
    try:
        return await serve(settings, "127.0.0.1", port, "all", [build(settings, client)])
    finally:
        await client.aclose()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(int(sys.argv[1]))))
