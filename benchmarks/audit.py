"""Check a soak's outcome: the fake Discord's state and the runs in Redis against the plan.

Pure: it reads JSON the fake dumped and run hashes read from Redis, and returns figures plus a
list of problems (empty when nothing was lost, doubled or left behind).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from benchmarks.stories import Plan, Story
from bot.prs import render
from bot.prs.routing import name_template, route
from bot.settings import Settings

TERMINAL = frozenset({"completed", "failed"})
# The message a merge or close posts (bot/prs/render.py), before the thread is archived.
CLOSE_MESSAGE = re.compile(r"(Merged|Closed) by \*\*")
JSON = dict[str, Any]


@dataclass
class Audit:
    """What the soak left behind: figures to print and problems to fail on."""

    figures: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Tell whether nothing was lost, doubled or stuck."""
        return not self.problems


def message_text(message: JSON) -> str:
    """Return a message's content and embed texts as one string."""
    parts = [str(message.get("content") or "")]
    for embed in message.get("embeds") or []:
        parts += [str(embed.get("title") or ""), str(embed.get("description") or "")]
        parts += [str(f.get("value") or "") for f in embed.get("fields") or []]
    return "\n".join(parts)


class Discord:
    """The fake's state dump, indexed for the checks."""

    def __init__(self, state: JSON) -> None:
        self.threads: list[JSON] = state["threads"]
        self.messages: dict[str, list[JSON]] = state["messages"]
        self.texts = {cid: [message_text(m) for m in ms] for cid, ms in self.messages.items()}

    def marker_places(self, marker: str) -> list[str]:
        """Return the channel or thread id of every message carrying `marker` (once per hit)."""
        return [cid for cid, texts in self.texts.items() for t in texts if marker in t]


def check_thread(story: Story, discord: Discord, settings: Settings, audit: Audit) -> None:
    """Check one PR: exactly one thread, its final name and archived state, its messages."""
    repo, number = story.pr.repo, story.pr.number
    channel = route(settings, repo)
    assert channel is not None
    template = name_template(settings, channel)
    prefix = render.thread_prefix(template, repo, number)
    mine = [
        t
        for t in discord.threads
        if int(t["parent_id"]) == channel
        and (render.has_prefix(t["name"], prefix) or t["name"].startswith(f"duplicate {prefix}"))
    ]
    if len(mine) != 1:
        audit.problems.append(f"{story.pr.key}: {len(mine)} threads, expected exactly 1")
        return
    thread = mine[0]
    name = render.thread_name(template, repo, number, story.title)
    if thread["name"] != name:
        audit.problems.append(f"{story.pr.key}: thread named {thread['name']!r}, want {name!r}")
    archived = bool(thread["thread_metadata"]["archived"])
    want = story.archived and not posted_after_close(discord.texts.get(thread["id"], []))
    if archived != want:
        audit.problems.append(f"{story.pr.key}: archived={archived}, want {want}")
    check_messages(story, thread["id"], discord, audit)


def posted_after_close(texts: list[str]) -> bool:
    """Tell whether a message followed the close message (a late delivery, say a comment whose
    first POST met a 503 and came back after the merge): posting revives an archived thread, as
    Discord does for anyone, and prbot keeps that behaviour on purpose."""
    closes = [i for i, text in enumerate(texts) if CLOSE_MESSAGE.search(text)]
    return bool(closes) and closes[-1] < len(texts) - 1


def check_messages(story: Story, thread_id: str, discord: Discord, audit: Audit) -> None:
    """Check the thread holds the intro plus one message per posting event, markers once."""
    count = len(discord.messages.get(thread_id, []))
    audit.figures["messages"] += count
    if count != story.posts:
        audit.problems.append(f"{story.pr.key}: {count} messages, expected {story.posts}")
    for marker in story.markers:
        places = discord.marker_places(marker)
        if places != [thread_id]:
            audit.problems.append(f"{story.pr.key}: {marker} seen {len(places)}x (want once)")


def check_runs(plan: Plan, runs: dict[str, dict[str, str]], audit: Audit) -> None:
    """Check every run ended and every delivery of the plan made runs (none lost)."""
    statuses = Counter(state.get("status", "?") for state in runs.values())
    audit.figures.update({f"runs {s}": n for s, n in sorted(statuses.items())})
    stuck = [rid for rid, state in runs.items() if state.get("status") not in TERMINAL]
    if stuck:
        audit.problems.append(f"{len(stuck)} runs not finished, e.g. {stuck[:3]}")
    with_runs = {state.get("event") for state in runs.values()}
    delivered = {item.delivery.delivery_id for s in plan.stories for item in s.lane}
    lost = sorted(delivered - with_runs)
    if lost:
        audit.problems.append(f"{len(lost)} accepted deliveries made no run, e.g. {lost[:3]}")
    for rid, state in runs.items():
        if state.get("status") == "failed":
            audit.problems.append(f"run {rid} ({state.get('fn')}) failed: {state.get('error')}")


def check_answers(plan: Plan, answers: Counter[str], audit: Audit) -> None:
    """Check GitHub's view: every delivery accepted, no id queued twice."""
    audit.figures.update({f"answered {k}": n for k, n in sorted(answers.items())})
    # Fewer than `unique` is possible: a POST whose answer was lost is sent again (duplicate).
    if answers["queued"] > plan.unique:
        audit.problems.append(f"{answers['queued']} deliveries queued, only {plan.unique} unique")
    if answers["queued"] + answers["duplicate"] != plan.sent:
        audit.problems.append(f"not every delivery was accepted: {dict(answers)}")


def audit(
    plan: Plan,
    state: JSON,
    runs: dict[str, dict[str, str]],
    answers: Counter[str],
    settings: Settings,
) -> Audit:
    """Return the figures and problems of a finished soak."""
    result = Audit(figures={"messages": 0})
    discord = Discord(state)
    result.figures["threads"] = len(discord.threads)
    for story in plan.stories:
        check_thread(story, discord, settings, result)
    check_runs(plan, runs, result)
    check_answers(plan, answers, result)
    return result
