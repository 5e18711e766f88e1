"""`prbot serve` without DISCORD_TOKEN refuses to start; `--dry-run` says so and keeps nothing.

Real processes on a real Redis: a dry run must never use up delivery ids or write stand-in
thread ids where a real worker would find them.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from bot.cli.serve import dry_run_problem
from bot.settings import load_settings
from tests.cli import ROOT, clean_env, command, prbot
from tests.loopback import free_port, wait_until_up
from tests.web import SECRET, recorded

pytestmark = pytest.mark.slow


async def keys_under(redis_url: str, prefix: str) -> list[str]:
    """Return every key under `prefix` on the test Redis."""
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        return [key async for key in client.scan_iter(match=f"{prefix}:*")]
    finally:
        await client.aclose()


def env_for(redis_url: str, prefix: str, **extra: str) -> dict[str, str]:
    """Return a production-like environment without DISCORD_TOKEN."""
    return clean_env(
        GITHUB_WEBHOOK_SECRET=SECRET,
        REDIS_URL=redis_url,
        REDIS_KEY_PREFIX=prefix,
        DISCORD_CHANNEL_ID="100000000000000001",
        **extra,
    )


@pytest.mark.parametrize("role", ["all", "worker"])
async def test_serve_without_a_token_refuses_in_one_line(redis_url: str, role: str) -> None:
    prefix = f"refuse-{uuid.uuid4().hex[:8]}"
    port = str(free_port())
    done = prbot(env_for(redis_url, prefix), "serve", "--port", port, "--role", role)
    assert done.returncode == 2, done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.strip()]
    assert "DISCORD_TOKEN" in line and "--dry-run" in line
    assert done.stdout == ""
    assert await keys_under(redis_url, prefix) == []


def test_which_roles_need_the_token() -> None:
    none = load_settings({})
    assert dry_run_problem(none, "web", dry_run=False) is None  # it never calls Discord
    assert dry_run_problem(load_settings({"DISCORD_TOKEN": "t0ken-value"}), "all", False) is None
    assert dry_run_problem(none, "all", dry_run=True) is None
    problem = dry_run_problem(none, "worker", dry_run=True)
    assert problem is not None and "--role all" in problem


def test_a_dry_run_is_one_process() -> None:
    done = prbot(clean_env(GITHUB_WEBHOOK_SECRET=SECRET), "serve", "--dry-run", "--role", "web")
    assert done.returncode == 2 and "--dry-run" in done.stderr


async def test_dry_run_says_so_loudly_and_writes_nothing_into_redis(
    redis_url: str, tmp_path: Path
) -> None:
    prefix = f"dry-{uuid.uuid4().hex[:8]}"
    port = free_port()
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    args = command("serve", "--dry-run", "--port", str(port))
    with out.open("w") as stdout, err.open("w") as stderr:
        process = await asyncio.create_subprocess_exec(
            *args, cwd=ROOT, env=env_for(redis_url, prefix), stdout=stdout, stderr=stderr
        )
    try:
        await wait_until_up(f"http://127.0.0.1:{port}")
        opened = recorded("pull_request", "opened")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            answer = await client.post(
                "/webhooks/github", content=opened.body, headers=opened.headers("dry-1")
            )
        assert answer.status_code == 202 and answer.json()["status"] == "queued"
        async with asyncio.timeout(20):
            while "created in channel" not in out.read_text():
                await asyncio.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 20)
    logged = err.read_text()
    assert code == 0, logged
    assert "DRY RUN (--dry-run)" in logged and "REDIS_URL is not used" in logged
    assert "thread 10001 created" in out.read_text()  # the transcript on stdout
    assert await keys_under(redis_url, prefix) == []  # no delivery id, no mapping, nothing
