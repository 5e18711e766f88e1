"""SIGTERM on real processes: webhooks answer 503 while draining, the run in flight finishes or is
handed back and completed by the next process, exit code 0, no step lost or doubled."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.ops.fixtures import load_deliveries, scenarios_dir
from bot.runtime import Store, run_id_for
from bot.runtime.inspect import list_runs
from tests.deploy import ROOT
from tests.deploy.shutdown_service import FUNCTION_ID
from tests.fakes.discord_server import FakeDiscord
from tests.loopback import free_port, wait_until_up
from tests.web import SECRET, recorded

URL = "/webhooks/github"
TOKEN = "discord-token-for-shutdown-tests.0123456789"
pytestmark = pytest.mark.slow


class Process:
    """A child process whose stderr goes to a file (read when it has exited)."""

    def __init__(self, process: asyncio.subprocess.Process, log: Path, port: int) -> None:
        self.process = process
        self.log = log
        self.base = f"http://127.0.0.1:{port}"

    async def terminate(self, timeout_s: float = 20) -> int:
        """Send SIGTERM and return the exit code."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout_s)

    def stderr(self) -> str:
        """Return what the process logged."""
        return self.log.read_text(encoding="utf-8")


@asynccontextmanager
async def started(args: list[str], env: dict[str, str], log: Path) -> AsyncIterator[Process]:
    """Start `python ARGS... PORT` with `env`; SIGTERM it (if still running) on the way out."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME")}
    with log.open("w", encoding="utf-8") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *args, str(port), cwd=ROOT, env={**clean, **env}, stderr=err
        )
    child = Process(process, log, port)
    try:
        await wait_until_up(child.base)
        yield child
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def drained(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> int:
    """Wait until /readyz says draining, then POST a delivery; return its status (503 expected)."""
    async with asyncio.timeout(10):
        while (ready := await client.get("/readyz")).status_code != 503:
            await asyncio.sleep(0.005)
    assert ready.json()["checks"]["draining"] == "shutting down"
    answer = await client.post(URL, content=body, headers=headers)
    assert answer.headers.get("Retry-After") == "5"
    return answer.status_code


async def poll(
    check: Callable[[], Awaitable[bool]], process: Process, timeout_s: float = 10
) -> None:
    """Wait until `check()` is True; on timeout fail with the process's log."""
    try:
        async with asyncio.timeout(timeout_s):
            while not await check():
                await asyncio.sleep(0.02)
    except TimeoutError:
        pytest.fail(f"{check.__name__} still false after {timeout_s} s; log:\n{process.stderr()}")


# -- a test function whose second step outlives the shutdown timeout -----------------------------


def service_env(redis_url: str, prefix: str, **extra: str) -> dict[str, str]:
    """Return the environment of a shutdown-test service on the test Redis."""
    env = {"GITHUB_WEBHOOK_SECRET": SECRET, "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": prefix}
    return {**env, "LOG_FORMAT": "json", **extra}


async def test_a_step_past_the_timeout_is_released_and_resumed_by_the_next_process(
    real_store: Store, redis_url: str, tmp_path: Path
) -> None:
    store, args = real_store, ["-m", "tests.deploy.shutdown_service"]
    env = service_env(redis_url, store.keys.prefix, SHUTDOWN_TIMEOUT_S="1.5")
    counter = store.keys.data("shutdown-test")
    opened = recorded("pull_request", "opened")
    run_key = store.keys.run(run_id_for("d-1", FUNCTION_ID))

    async def started_two() -> bool:
        return await store.redis.hget(counter, "two:started") == "1"

    async with started(args, env, tmp_path / "first.log") as first:
        async with httpx.AsyncClient(base_url=first.base) as client:
            accepted = await client.post(URL, content=opened.body, headers=opened.headers("d-1"))
            assert accepted.status_code == 202
            await poll(started_two, first)
            first.process.send_signal(signal.SIGTERM)
            assert await drained(client, opened.body, opened.headers("d-late")) == 503
        assert await first.terminate() == 0, first.stderr()
    assert await store.redis.hget(run_key, "status") == "queued"  # handed back, not lost
    assert json.loads(first.stderr().splitlines()[-1])["message"] == "prbot stopped"

    await store.redis.hset(counter, "go", "1")

    async def completed() -> bool:
        return await store.redis.hget(run_key, "status") == "completed"

    async with started(args, env, tmp_path / "second.log") as second:
        await poll(completed, second)
        assert await second.terminate() == 0, second.stderr()
    counts = await store.redis.hgetall(counter)
    assert counts["one:started"] == counts["one:done"] == "1"  # saved: never run again
    assert counts["two:started"] == "2"  # cut by the shutdown, run again from its start...
    assert counts["two:done"] == "1"  # ...and its effect happened once
    assert await store.redis.zcard(store.keys.events) == 1  # the 503'd delivery was not taken


# -- the real `prbot serve` with the product's functions and a slow fake Discord ---------------


@contextmanager
def scenario() -> Iterator[list[tuple[bytes, dict[str, str]]]]:
    """Yield the pr-lifecycle deliveries, signed."""
    deliveries = load_deliveries([scenarios_dir() / "pr-lifecycle"])
    yield [(d.body, d.signed_headers(SECRET)) for d in deliveries]


def lines(process: Process) -> list[dict[str, Any]]:
    """Return the process's log as parsed JSON lines (LOG_FORMAT=json: every line is one)."""
    return [json.loads(line) for line in process.stderr().splitlines()]


def requests(fake: FakeDiscord, method: str, route: str) -> int:
    """Return how many `method route` requests the fake answered with success."""
    found = fake.requests.to_json()["by_route"]
    return sum(r["count"] for r in found if (r["method"], r["route"]) == (method, route)
               and r["status"] < 300)  # fmt: skip


async def test_prbot_serve_finishes_the_run_in_flight_and_the_next_process_the_rest(
    real_store: Store, redis_url: str, tmp_path: Path
) -> None:
    async with FakeDiscord(token=TOKEN, route_limit=1000, global_limit=1000) as fake:
        guild = fake.add_guild()
        channel = fake.add_text_channel(guild.id)
        env = service_env(redis_url, real_store.keys.prefix, SHUTDOWN_TIMEOUT_S="15")
        env |= {"DISCORD_TOKEN": TOKEN, "DISCORD_API_BASE": fake.api_base}
        env |= {"DISCORD_CHANNEL_ID": str(channel.id), "LOG_LEVEL": "DEBUG"}
        args = ["-m", "bot", "serve", "--port"]
        fake.faults.latency_ms = 300  # each Discord call of the first process takes a while
        with scenario() as deliveries:
            async with started(args, env, tmp_path / "first.log") as first:
                async with httpx.AsyncClient(base_url=first.base) as client:
                    for body, headers in deliveries:
                        assert (
                            await client.post(URL, content=body, headers=headers)
                        ).status_code == 202

                    async def creating() -> bool:
                        return requests(fake, "POST", "/channels/{channel_id}/threads") == 1

                    await poll(creating, first)
                    first.process.send_signal(signal.SIGTERM)
                    body, headers = deliveries[0]
                    assert (
                        await drained(client, body, {**headers, "X-GitHub-Delivery": "late"}) == 503
                    )
                assert await first.terminate() == 0, first.stderr()
            fake.faults.latency_ms = 0
            finished = requests(fake, "POST", "/channels/{channel_id}/messages")
            assert 1 <= finished < 9  # the run in flight finished; the rest waits in Redis
            stopping = [line for line in lines(first) if line["message"].startswith("stopping:")]
            assert stopping[0]["message"].startswith("stopping: 1 runs in flight")
            assert not [line for line in lines(first) if "released" in line["message"]]
            async with started(args, env, tmp_path / "second.log") as second:

                async def all_done() -> bool:
                    runs = await list_runs(real_store, 100, False, None)
                    # Each delivery's functions (the card's facts too) and the rename; the
                    # debounced card run comes 2 s after the last change.
                    core = [r for r in runs if r.function_id != "pr-card"]
                    shown = any(r.function_id == "pr-card" for r in runs)
                    return len(core) == 19 and shown and all(r.status == "completed" for r in runs)

                await poll(all_done, second, 20)
                assert await second.terminate() == 0, second.stderr()
    [thread] = fake.threads_in(channel.id)
    messages = fake.messages_in(thread.id)
    assert (
        len(messages) == 9 == requests(fake, "POST", "/channels/{channel_id}/messages")
    )  # none twice
    assert requests(fake, "POST", "/channels/{channel_id}/threads") == 1
    assert thread.archived and thread.name.startswith("#42 Add French, German and Brazilian")
    for log in (first.stderr(), second.stderr()):
        assert TOKEN not in log and SECRET not in log
    webhooks = [line for line in lines(first) if line["logger"] == "bot.web.app"]
    assert [w["outcome"] for w in webhooks] == ["queued"] * 10 + ["draining"]
    assert all(w["delivery_id"] and w["event"] and "ms" in w for w in webhooks)
    runs = [line for line in lines(second) if line["logger"] == "bot.runtime.run"]
    assert runs and all(r["delivery_id"] and r["run_id"] and r["function"] for r in runs)
