"""A running prbot with small functions whose runs complete, fail and sleep, for the dashboard."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import redis.asyncio as aioredis

from bot.runtime import Context, Event, Function, NonRetriableError, function
from bot.settings import load_settings
from tests.web import Running, running

HELLO = "test/hello"
NAP = "test/nap"
ASK, ANSWER = "test/ask", "test/answer"
GREET, FLAKY, SLEEPER, WAITER = "greet", "flaky", "sleeper", "waiter"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def pr_of(event: Event) -> str | None:
    """Return the PR key of a test event: `{"repo": "o/r", "number": N}`."""
    repo, number = event.data.get("repo"), event.data.get("number")
    return f"{repo}#{number}" if repo and number else None


@dataclass
class Calls:
    """What the test functions were called with."""

    greet: list[str] = field(default_factory=list)
    flaky: list[str] = field(default_factory=list)


def functions(calls: Calls) -> list[Function]:
    """Return greet, flaky (fails unless rerun or replayed), sleeper and waiter (an hour each)."""

    @function(GREET, HELLO, concurrency_key=pr_of)
    async def greet(ctx: Context) -> str:
        async def say() -> dict[str, str]:
            calls.greet.append(ctx.event.id)
            return {"said": f"hello {ctx.event.data.get('who', '?')}"}

        said = await ctx.step.run("say", say)
        return str(said["said"])

    @function(FLAKY, HELLO, concurrency_key=pr_of, retries=0)
    async def flaky(ctx: Context) -> str:
        async def check() -> str:
            calls.flaky.append(ctx.event.id)
            if ".replay-" not in ctx.event.id and "-r" not in ctx.run_id:
                raise NonRetriableError("the first try always fails")
            return "fine now"

        return await ctx.step.run("check", check)

    @function(SLEEPER, NAP, concurrency_key=pr_of)
    async def sleeper(ctx: Context) -> None:
        await ctx.step.sleep("nap", 3600)

    @function(WAITER, ASK, concurrency_key=pr_of)
    async def waiter(ctx: Context) -> str | None:
        answer = await ctx.step.wait_for_event(
            "answer", event=ANSWER, match="data.number", timeout_s=3600
        )
        return answer.id if answer else None

    return [greet, flaky, sleeper, waiter]


def hello(n: int, pr: int = 1, who: str = "octocat") -> Event:
    """Return the n-th test event for PR `o/r#pr`."""
    return Event(name=HELLO, id=f"hello-{n}", data={"repo": "o/r", "number": pr, "who": who})


async def settle(run: Running, timeout_s: float = 10.0) -> None:
    """Wait until no run is queued, running or retrying (sleeping runs may stay)."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=run.base) as client:
        while time.monotonic() < deadline:
            page = (await client.get("/api/runs", params={"limit": 200})).json()
            if all(r["status"] not in ("queued", "running", "retrying") for r in page["runs"]):
                return
            await asyncio.sleep(0.05)
    raise AssertionError("runs did not settle")


@asynccontextmanager
async def dashboard(redis_url: str, **env: str) -> AsyncIterator[tuple[Running, Calls]]:
    """Run prbot on the flushed test Redis with the test functions; yield it and their calls."""
    client = aioredis.Redis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()
    values = {"REDIS_URL": redis_url, "ALLOW_UNSIGNED_WEBHOOKS": "true", "REDIS_KEY_PREFIX": "ui"}
    settings = load_settings(values | env)
    calls = Calls()
    async with running(settings, functions(calls)) as run:
        yield run, calls


def csrf_of(html: str) -> str:
    """Return the CSRF form token of a page."""
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)
