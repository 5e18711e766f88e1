"""Each scenario over real HTTP ends in the fake Discord exactly as its dry-run transcript says."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli.replay import scenario_overrides
from bot.ops.fixtures import load_deliveries, scenarios_dir
from bot.ops.replay import HORIZON_MS, delivered_at_ms, drain
from bot.runtime import Worker
from tests.discord.world import World, adapter, fast_sleeps, world
from tests.functions.harness import Harness, HarnessFactory, make_harness, scenario_store

__all__ = ["adapter", "fast_sleeps", "make_harness", "scenario_store", "world"]

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(p.name for p in scenarios_dir().iterdir() if p.is_dir())
CREATED = re.compile(r'^(?:thread|forum post) (\d+) created in channel \d+: "(.*)"(?: tags .*)?$')
RENAMED = re.compile(r'^thread (\d+) renamed ".*" -> "(.*)"$')
STATE = re.compile(r"^thread (\d+) (archived|unarchived)\b")
MESSAGE = re.compile(r"^thread (\d+) message: ")
POSTED = re.compile(r"^channel (\d+) message: ")
DELETED = re.compile(r"^thread (\d+) deleted message ")
# What a scenario.env may set that the harness takes as it is (channels are the fake's own).
TIME_DRIVEN = ("REVIEW_REMINDER_AFTER", "DIGEST_CRON", "GITHUB_DISCORD_USERS")


@dataclass
class Expected:
    """What a transcript says one thread ends as."""

    name: str
    archived: bool = False
    messages: int = 0


def expected_threads(transcript: str) -> dict[str, Expected]:
    """Read the transcript: final name, archived state and message count per thread."""
    threads: dict[str, Expected] = {}
    for line in transcript.splitlines():
        if m := CREATED.match(line):
            threads[m[1]] = Expected(m[2])
        elif m := RENAMED.match(line):
            threads[m[1]].name = m[2]
        elif m := STATE.match(line):
            threads[m[1]].archived = m[2] == "archived"
        elif m := MESSAGE.match(line):
            threads[m[1]].messages += 1
        elif m := DELETED.match(line):
            threads[m[1]].messages -= 1
    return {t.name: t for t in threads.values()}


def scenario_env(name: str, world: World) -> dict[str, str]:
    """Return a scenario's settings on the fake Discord: its forum and digest channels."""
    env = {"REPO_CHANNELS": f"octo-org/forum-demo={world.forum.id}"} if name == "forum" else {}
    found = scenario_overrides([scenarios_dir() / name])
    env |= {k: v for k, v in found.items() if k in TIME_DRIVEN}
    if "DIGEST_CRON" in env:
        env["DIGEST_CHANNEL_ID"] = str(world.alerts.id)
    return env


async def paced_play(harness: Harness, name: str) -> None:
    """Deliver a time-driven scenario at its recorded times, timers firing in between."""
    worker = Worker(harness.runtime, concurrency=8)
    deliveries = load_deliveries([scenarios_dir() / name])
    first = delivered_at_ms(deliveries[0].delivery_id)
    assert first is not None
    harness.clock.set(first)  # as `prbot replay` starts its clock (a cron starts from here)
    for delivery in deliveries:
        at = delivered_at_ms(delivery.delivery_id)
        assert at is not None
        await drain(harness.runtime, worker, at)
        harness.clock.set(at)
        await harness.post(delivery)
        await harness.settle()
    await drain(harness.runtime, worker, harness.clock.now_ms() + HORIZON_MS)


@pytest.mark.parametrize("name", SCENARIOS)
async def test_scenario_over_http_matches_its_transcript(
    name: str, make_harness: HarnessFactory, world: World
) -> None:
    forum = name == "forum"
    env = scenario_env(name, world)
    harness: Harness = await make_harness(**env)
    if any(k in env for k in ("REVIEW_REMINDER_AFTER", "DIGEST_CRON")):
        await paced_play(harness, name)
    else:
        await harness.play(name)
    transcript = (scenarios_dir() / name / "transcript.txt").read_text(encoding="utf-8")
    expected = expected_threads(transcript)
    threads = harness.threads(forum=forum)
    got = {t.name: t for t in threads}
    assert sorted(got) == sorted(expected)
    for thread_name, want in expected.items():
        thread = got[thread_name]
        assert thread.archived == want.archived, thread_name
        assert len(harness.messages(thread)) == want.messages, thread_name
    posted = [line for line in transcript.splitlines() if POSTED.match(line)]
    assert len(harness.world.fake.messages_in(world.alerts.id)) == len(posted)
    assert await harness.failed_runs() == []


async def test_replay_with_a_token_does_it_for_real(world: World) -> None:
    # `prbot replay` with DISCORD_TOKEN acts on Discord instead of printing a dry run.
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DISCORD_TOKEN")}
    env |= {
        "DISCORD_TOKEN": world.fake.token,
        "DISCORD_API_BASE": world.fake.api_base,
        "DISCORD_CHANNEL_ID": str(world.text.id),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--env-file", "/nonexistent", "replay",
        str(scenarios_dir() / "pr-lifecycle"),
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, (out + err).decode()
    assert "live: calling Discord" in out.decode()
    assert world.fake.token not in (out + err).decode()
    transcript = (scenarios_dir() / "pr-lifecycle" / "transcript.txt").read_text(encoding="utf-8")
    [(name, want)] = expected_threads(transcript).items()
    [thread] = world.fake.threads_in(world.text.id)
    assert (thread.name, thread.archived) == (name, want.archived)
    assert len(world.fake.messages_in(thread.id)) == want.messages


async def test_replay_with_a_wrong_token_says_so_in_one_line(world: World) -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env |= {"DISCORD_TOKEN": "not-the-bot-token", "DISCORD_API_BASE": world.fake.api_base}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--env-file", "/nonexistent", "replay",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 2
    assert "prbot: cannot log in to Discord" in err.decode()
    assert "Traceback" not in err.decode()
    assert "not-the-bot-token" not in err.decode()
