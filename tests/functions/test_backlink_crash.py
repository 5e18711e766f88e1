"""SIGKILL a real `prbot serve --role worker` while GitHub holds the answers to its backlink
POSTs (the comments are made): the runs resume in a new worker, and each PR has one backlink."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.discord.dryrun import DryRunAdapter
from bot.ops.fixtures import load_delivery, scenarios_dir
from bot.prs.deps import Deps
from bot.runtime import Event, Runtime, Store
from bot.runtime.inspect import list_runs
from bot.settings import load_settings
from functions import build_functions
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.github_models import Repo
from tests.fakes.github_server import FakeGitHub
from tests.functions.github_scene import MARKER
from tests.loopback import free_port

ROOT = Path(__file__).resolve().parents[2]
PRS = (61, 62, 63)
STALL_S = 6
COMMENTS = "/repos/*/issues/*/comments"


@pytest.fixture
async def crash_store(redis_url: str) -> AsyncIterator[Store]:
    """Yield a store under a prefix of its own on the real Redis (removed after)."""
    store = Store.connect(redis_url, prefix=f"crash-{uuid.uuid4().hex[:10]}")
    yield store
    keys = [k async for k in store.redis.scan_iter(match=f"{store.keys.prefix}:*", count=500)]
    if keys:
        await store.redis.delete(*keys)
    await store.close()


@contextmanager
def worker(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """Run `prbot serve --role worker` until the block ends (killed if still alive)."""
    command = [sys.executable, "-m", "bot", "--env-file", "/nonexistent", "serve",
               "--role", "worker", "--port", str(free_port())]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def opened(number: int) -> dict[str, Any]:
    """Return the `edits` scenario's opened payload, made about PR `number`."""
    payload = load_delivery(scenarios_dir() / "edits" / "01-opened.json").payload()
    text = json.dumps(payload).replace("/pull/49", f"/pull/{number}")
    changed: dict[str, Any] = json.loads(text)
    changed["number"] = changed["pull_request"]["number"] = number
    changed["pull_request"]["title"] = f"Change number {number}"
    return changed


async def until(check: Any, timeout_s: float = 40) -> None:
    """Poll `check()` (sync) until it is true."""
    async with asyncio.timeout(timeout_s):
        while not check():
            await asyncio.sleep(0.05)


def backlinks(fake: FakeGitHub, repo: Repo, number: int) -> int:
    """Return how many backlink comments a PR has."""
    return sum(MARKER in c.body for c in fake.comments_on(repo, number))


@pytest.mark.slow
async def test_one_backlink_per_pr_across_a_killed_worker(
    crash_store: Store, redis_url: str
) -> None:
    async with FakeDiscord() as discord, FakeGitHub() as github:
        guild = discord.add_guild()
        channel = discord.add_text_channel(guild.id)
        repo = github.add_repo("octo-org/hello-world")
        for n in PRS:
            github.add_pull(repo, number=n, title=f"Change number {n}")
        token = github.add_token("prbot-bot")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "DISCORD_"))},
            "DISCORD_TOKEN": discord.token,
            "DISCORD_API_BASE": discord.api_base,
            "DISCORD_CHANNEL_ID": str(channel.id),
            "GITHUB_TOKEN": token.value,
            "GITHUB_API_BASE": github.api_base,
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": crash_store.keys.prefix,
            "RUN_VISIBILITY_TIMEOUT_S": "1",
            "BACKFILL_INTERVAL": "off",
            "LOG_LEVEL": "WARNING",
        }
        # Every first POST of a backlink is made, then its answer held: the worker dies waiting.
        github.faults.fail_next("POST", COMMENTS, "stall", times=len(PRS), retry_after_s=STALL_S)
        planning = build_functions(
            Deps.build(load_settings(env), crash_store, DryRunAdapter(echo=False))
        )
        events = [Event(name="github/pull_request.opened", id=f"opened-{n}", data=opened(n))
                  for n in PRS]  # fmt: skip
        await Runtime(crash_store, planning).send(events)
        with worker(env) as first:
            await until(lambda: all(backlinks(github, repo, n) == 1 for n in PRS))
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        with worker(env):
            await until(lambda: github.requests.count(method="GET", route=_LIST) >= 2 * len(PRS))
            runs = await _backlink_runs(crash_store, len(PRS))
            # The held answers are logged once given (to nobody): then every POST is counted.
            await until(lambda: github.requests.count(method="POST", route=_LIST) >= len(PRS))
        assert {n: backlinks(github, repo, n) for n in PRS} == {n: 1 for n in PRS}
        assert len(github.state.comments) == len(PRS)
        assert github.requests.count(method="POST", route=_LIST) == len(PRS)  # none repeated
        assert all(r.status == "completed" for r in runs)
        abandoned = [await crash_store.redis.hget(crash_store.keys.run(r.run_id), "abandoned")
                     for r in runs]  # fmt: skip
        assert abandoned == ["1"] * len(PRS)  # each was resumed after the kill
        assert len(discord.threads_in(channel.id)) == len(PRS)


_LIST = "/repos/{owner}/{repo}/issues/{issue_number}/comments"


async def _backlink_runs(store: Store, count: int) -> list[Any]:
    """Wait for `count` backlink runs to complete; return them."""
    async with asyncio.timeout(30):
        while True:
            runs = await list_runs(store, 100, function_id="pr-backlink")
            if len(runs) == count and all(r.status == "completed" for r in runs):
                return runs
            await asyncio.sleep(0.1)
