"""Each scenario over real HTTP ends in the fake Discord exactly as its dry-run transcript says."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from bot.fixtures import scenarios_dir
from tests.discord.world import World, adapter, fast_sleeps, keep_route_base, world
from tests.functions.harness import Harness, HarnessFactory, make_harness, scenario_store

__all__ = ["adapter", "fast_sleeps", "keep_route_base", "make_harness", "scenario_store", "world"]

SCENARIOS = sorted(p.name for p in scenarios_dir().iterdir() if p.is_dir())
CREATED = re.compile(r'^(?:thread|forum post) (\d+) created in channel \d+: "(.*)"(?: tags .*)?$')
RENAMED = re.compile(r'^thread (\d+) renamed ".*" -> "(.*)"$')
STATE = re.compile(r"^thread (\d+) (archived|unarchived)\b")
MESSAGE = re.compile(r"^thread (\d+) message: ")


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
    return {t.name: t for t in threads.values()}


@pytest.mark.parametrize("name", SCENARIOS)
async def test_scenario_over_http_matches_its_transcript(
    name: str, make_harness: HarnessFactory, world: World
) -> None:
    forum = name == "forum"
    env = {"REPO_CHANNELS": f"octo-org/forum-demo={world.forum.id}"} if forum else {}
    harness: Harness = await make_harness(**env)
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
    assert await harness.failed_runs() == []
