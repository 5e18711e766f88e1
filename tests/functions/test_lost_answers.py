"""Exactly once without Discord's nonce window: lost answers retried long after it closed.

Discord drops a repeated message nonce only "within the past few minutes"; here the fake forgets
nonces after 1 s, one write in ten is carried out and then answered with a 502 or a dropped
connection, and every retry comes later than the window (backoff of 2 s and more). Each side
effect must find itself instead: twelve PRs told by the soak's stories end with one thread each,
named and archived right, and every message exactly once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from benchmarks import stories
from benchmarks.audit import Audit, audit
from bot.runtime import RuntimeOptions
from bot.runtime.policy import Backoff
from bot.settings import load_settings
from tests.discord.world import World
from tests.functions.harness import Harness

Make = Callable[..., Any]
NONCE_WINDOW_S = 1.0
LATER_THAN_THE_WINDOW = RuntimeOptions(backoff=Backoff(base_ms=4_000))  # retries 2 s, 4 s, …
PRS = 12


@dataclass(frozen=True)
class Outcome:
    """What a multi-PR run left on Discord: PRs right, messages and threads made twice."""

    correct: int
    doubled_messages: int
    doubled_threads: int
    lost_answers: int
    audit: Audit


async def play(h: Harness, plan: stories.Plan) -> Counter[str]:
    """Send every story's lane, the PRs interleaved, settling after each round."""
    answers: Counter[str] = Counter()
    for i in range(max(len(s.lane) for s in plan.stories)):
        for story in plan.stories:
            if i < len(story.lane):
                answers[await h.post(story.lane[i].delivery)] += 1
        await h.settle()
    return answers


async def runs(h: Harness) -> dict[str, dict[str, str]]:
    """Return every run's state hash."""
    redis, keys = h.store.redis, h.store.keys
    ids = [str(r) for r in await redis.zrange(keys.runs, 0, -1)]
    states = [await redis.hgetall(keys.run(i)) for i in ids]
    return {i: {str(k): str(v) for k, v in st.items()} for i, st in zip(ids, states, strict=True)}


def outcome(h: Harness, plan: stories.Plan, found: Audit) -> Outcome:
    """Count PRs without a problem, and what was made more than once."""
    state = h.world.fake.snapshot()
    wrong = {s.pr.key for s in plan.stories for p in found.problems if p.startswith(s.pr.key)}
    extra_messages = extra_threads = 0
    for story in plan.stories:
        prefix = f"#{story.pr.number} "
        mine = [t for t in state["threads"] if prefix in t["name"]]
        extra_threads += max(0, len(mine) - 1)
        count = sum(len(state["messages"].get(t["id"], [])) for t in mine)
        extra_messages += max(0, count - story.posts)
    lost = Counter(
        f"{r.method} {r.route}" for r in h.world.fake.requests.records if r.fault == "lost"
    )
    print("answers lost:", dict(lost))
    return Outcome(PRS - len(wrong), extra_messages, extra_threads, lost.total(), found)


@pytest.mark.parametrize("seed", [3, 11, 24])
async def test_lost_answers_after_the_nonce_window_double_nothing(
    make_harness: Make, world: World, seed: int
) -> None:
    env = {"REPO_CHANNELS": f"{stories.FORUM_REPO}={world.forum.id}"}
    h: Harness = await make_harness(LATER_THAN_THE_WINDOW, **env)
    h.world.fake.nonce_window_s = NONCE_WINDOW_S
    h.world.fake.faults.update({"p_lost": 0.1, "seed": seed})
    plan = stories.plan(deliveries=150, prs=PRS, seed=seed)
    answers = await play(h, plan)
    h.world.fake.faults.update({"p_lost": 0})
    settings = load_settings(
        {"DISCORD_CHANNEL_ID": str(h.world.text.id), "REPO_CHANNELS": env["REPO_CHANNELS"]}
    )
    found = audit(plan, h.world.fake.snapshot(), await runs(h), answers, settings)
    result = outcome(h, plan, found)
    print(
        f"seed {seed}: {result.correct}/{PRS} PRs correct, {result.doubled_messages} messages "
        f"and {result.doubled_threads} threads doubled, {result.lost_answers} answers lost"
    )
    print("\n".join(result.audit.problems))
    assert result.lost_answers >= 5  # the faults did happen
    assert (result.correct, result.doubled_messages, result.doubled_threads) == (PRS, 0, 0)
    assert result.audit.ok, result.audit.problems


async def test_a_lost_alert_is_posted_once(make_harness: Make) -> None:
    h: Harness = await make_harness(LATER_THAN_THE_WINDOW)
    h.world.fake.nonce_window_s = NONCE_WINDOW_S
    await h.play("redelivery", "01-opened")
    thread = h.thread()
    h.world.fake.faults.fail_next("POST", f"/channels/{thread.id}/messages", 403)
    h.world.fake.faults.lose_next("POST", f"/channels/{h.world.alerts.id}/messages", drop=True)
    await h.play("redelivery", "02-comment")
    (failed,) = await h.failed_runs()
    (alert,) = h.world.fake.messages_in(h.world.alerts.id)
    assert failed in alert.content
    alert_path = f"/channels/{h.world.alerts.id}/messages"
    posts = [r.status for r in h.world.fake.requests.records if r.path == alert_path]
    assert posts == [0, 200]  # the POST whose answer was lost, then the retry's look
    assert [r.method for r in h.world.fake.requests.records if r.path == alert_path][-1] == "GET"
