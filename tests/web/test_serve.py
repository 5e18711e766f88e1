"""`prbot serve`: refuses unsafe settings, serves over a real socket, drains and stops in order."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from bot.ops.serve import Service, build_store, serve, startup_problem
from bot.runtime import Context, Function, Runtime, Store, Worker, function, run_id_for
from bot.settings import Settings, load_settings
from bot.web.metrics import Metrics
from tests.loopback import free_port, wait_until_up
from tests.web import DISCORD_TOKEN, ROOT, SECRET, recorded, running

URL = "/webhooks/github"


class Gate:
    """What the `slow` function waits for; a fresh event per test (events bind to a loop)."""

    event = asyncio.Event()

    @classmethod
    async def wait(cls) -> bool:
        """Wait until the test opens the gate."""
        return await cls.event.wait()


@pytest.fixture(autouse=True)
async def gate() -> asyncio.Event:
    """Give each test a closed gate in its own loop."""
    Gate.event = asyncio.Event()
    return Gate.event


@function("slow", "github/pull_request.*")
async def slow(ctx: Context) -> str:
    """Hold the run in flight until the test opens the gate."""
    await ctx.step.run("wait", Gate.wait)
    return "done"


def redis_settings(redis_url: str, **extra: str) -> Settings:
    """Return settings for a service on the test Redis under the test prefix."""
    env = {"GITHUB_WEBHOOK_SECRET": SECRET, "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": "test"}
    return load_settings({**env, **extra})


@pytest.mark.parametrize(
    ("env", "role", "problem"),
    [
        ({}, "all", "GITHUB_WEBHOOK_SECRET is not set"),
        ({}, "web", "GITHUB_WEBHOOK_SECRET is not set"),
        ({"GITHUB_WEBHOOK_SECRET": SECRET}, "web", "--role web needs REDIS_URL"),
        ({"GITHUB_WEBHOOK_SECRET": SECRET}, "worker", "--role worker needs REDIS_URL"),
    ],
)
def test_startup_problems(env: dict[str, str], role: str, problem: str) -> None:
    found = startup_problem(load_settings(env), role)  # type: ignore[arg-type]
    assert found is not None and problem in found


def test_no_problem_when_safe_or_explicitly_unsigned() -> None:
    assert startup_problem(load_settings({"GITHUB_WEBHOOK_SECRET": SECRET}), "all") is None
    assert startup_problem(load_settings({"ALLOW_UNSIGNED_WEBHOOKS": "1"}), "all") is None
    worker = load_settings({"REDIS_URL": "redis://127.0.0.1:6379/9"})
    assert startup_problem(worker, "worker") is None  # a worker receives no webhooks


async def test_serve_refuses_to_start_without_a_secret(caplog: pytest.LogCaptureFixture) -> None:
    assert await serve(load_settings({}), "127.0.0.1", free_port(), "all", []) == 2
    assert "GITHUB_WEBHOOK_SECRET is not set" in caplog.text


async def test_retention_and_lease_come_from_the_settings() -> None:
    env = {"DELIVERY_MAX": "50", "DELIVERY_RETENTION_DAYS": "0.5", "RUN_VISIBILITY_TIMEOUT_S": "7"}
    settings = load_settings(env)
    store = build_store(settings)
    assert (store.limits.events_max, store.limits.event_ttl_ms) == (50, 43_200_000)
    service = Service(settings, "all", store, [], metrics=Metrics())
    assert service.runtime.options.lease_ms == 7_000
    await store.close()


async def in_flight(service: Service) -> None:
    """Wait until the service's worker is executing a run."""
    assert service.worker is not None
    while service.worker.inflight == 0:
        await asyncio.sleep(0.01)


async def test_shutdown_drains_webhooks_and_finishes_runs_in_flight(
    real_store: Store, redis_url: str, gate: asyncio.Event
) -> None:
    opened = recorded("pull_request", "opened")
    settings = redis_settings(redis_url, SHUTDOWN_TIMEOUT_S="5")
    async with running(settings, [slow]) as run, httpx.AsyncClient(base_url=run.base) as client:
        assert (await client.get("/readyz")).status_code == 200
        response = await client.post(URL, content=opened.body, headers=opened.headers("d-1"))
        assert response.json() == {"id": "d-1", "status": "queued"}
        await in_flight(run.service)
        stopping = asyncio.create_task(run.stopped())
        drained = await client.post(URL, content=opened.body, headers=opened.headers("d-2"))
        while drained.status_code != 503:
            drained = await client.post(URL, content=opened.body, headers=opened.headers("d-2"))
        assert drained.headers["Retry-After"] == "5"
        assert (await client.get("/readyz")).status_code == 503
        gate.set()  # the run in flight finishes within the shutdown timeout
        assert await stopping == 0
    key = real_store.keys.run(run_id_for("d-1", "slow"))
    assert await real_store.redis.hget(key, "status") == "completed"
    assert await real_store.redis.zcard(real_store.keys.events) == 1  # d-2 was never accepted


async def test_runs_past_the_timeout_are_released(
    real_store: Store, redis_url: str, gate: asyncio.Event
) -> None:
    opened = recorded("pull_request", "opened")
    settings = redis_settings(redis_url, SHUTDOWN_TIMEOUT_S="0.1")
    async with running(settings, [slow]) as run, httpx.AsyncClient(base_url=run.base) as client:
        await client.post(URL, content=opened.body, headers=opened.headers("d-slow"))
        await in_flight(run.service)
        assert await run.stopped() == 0
    key = real_store.keys.run(run_id_for("d-slow", "slow"))
    assert await real_store.redis.hget(key, "status") == "queued"  # released for another worker
    gate.set()
    assert await Worker(Runtime(real_store, [slow])).run_until_idle() == 1
    assert await real_store.redis.hget(key, "status") == "completed"


async def test_port_taken_exits_1(redis_url: str, real_store: Store) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        store = build_store(redis_settings(redis_url))
        service = Service(redis_settings(redis_url), "web", store, [], metrics=Metrics())
        code = await asyncio.wait_for(
            service.run("127.0.0.1", taken.getsockname()[1], asyncio.Event()), 10
        )
    await store.close()
    assert code == 1


async def test_serve_builds_functions_from_its_store_and_stops_on_sigterm(
    redis_url: str, real_store: Store, gate: asyncio.Event
) -> None:
    seen: list[str] = []

    @asynccontextmanager
    async def source(store: Store) -> AsyncIterator[list[Function]]:
        seen.append(f"enter {store.keys.prefix}")  # e.g. log in to Discord
        yield [slow]
        seen.append("exit")  # e.g. close the Discord session

    port, opened = free_port(), recorded("pull_request", "opened")
    settings = redis_settings(redis_url)
    task = asyncio.create_task(serve(settings, "127.0.0.1", port, "all", source))
    await wait_until_up(f"http://127.0.0.1:{port}")
    gate.set()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        response = await client.post(URL, content=opened.body, headers=opened.headers("d-f"))
    assert response.json()["status"] == "queued"
    os.kill(os.getpid(), signal.SIGTERM)  # serve's handler is installed while it runs
    assert await asyncio.wait_for(task, 20) == 0
    assert seen == ["enter test", "exit"]


async def test_serve_exits_1_when_the_functions_cannot_be_built(
    redis_url: str, real_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    @asynccontextmanager
    async def source(store: Store) -> AsyncIterator[list[Function]]:
        raise RuntimeError("Discord login failed")
        yield []

    code = await serve(redis_settings(redis_url), "127.0.0.1", free_port(), "all", source)
    assert code == 1
    assert "setting up the functions failed: RuntimeError: Discord login failed" in caplog.text


SCRIPT = """
import asyncio, logging, sys
from bot.ops.serve import serve
from bot.settings import load_settings, read_environment
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
settings = load_settings(read_environment(dotenv=None))
sys.exit(asyncio.run(serve(settings, "127.0.0.1", int(sys.argv[1]), "all", [])))
"""


def start_process(port: int, **env: str) -> subprocess.Popen[str]:
    """Start a `prbot serve`-like process on `port` with the embedded store."""
    clean = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "GITHUB_WEBHOOK_SECRET")}
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(port)],
        cwd=ROOT,
        env={**clean, "DISCORD_TOKEN": DISCORD_TOKEN, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def _exercise(port: int, signed: bool) -> list[int]:
    base = f"http://127.0.0.1:{port}"
    await wait_until_up(base)
    opened = recorded("pull_request", "opened")
    headers = opened.headers(secret=SECRET if signed else None)
    async with httpx.AsyncClient(base_url=base) as client:
        accepted = await client.post(URL, content=opened.body, headers=headers)
        ready = await client.get("/readyz")
        metrics = await client.get("/metrics")
    return [accepted.status_code, ready.status_code, metrics.status_code]


@pytest.mark.slow
@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
async def test_a_real_process_serves_and_exits_0_on_sigterm(signed: bool) -> None:
    port = free_port()
    env = {"GITHUB_WEBHOOK_SECRET": SECRET} if signed else {"ALLOW_UNSIGNED_WEBHOOKS": "true"}
    process = start_process(port, **env)
    try:
        assert await _exercise(port, signed) == [202, 200, 200]
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr
    assert "received SIGTERM: shutting down" in stderr
    assert "prbot stopped" in stderr
    assert SECRET not in stderr and DISCORD_TOKEN not in stderr
    if not signed:
        assert "ALLOW_UNSIGNED_WEBHOOKS is on" in stderr
        assert "note='UNSIGNED" in stderr
