"""Discord calls per event: about one in steady state, no scans, no 429 storms in a burst.

Steady state: the channel kinds were read at start (`startup_checks`, as `prbot serve` does),
and the store has held every mapping since before the PR opened (the recorded PRs are from
2024), so a PR without a mapping has no thread and nothing is searched.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.ops.fixtures import load_delivery, scenarios_dir
from bot.prs.mapping import ThreadStore
from functions import startup_checks
from tests.discord.world import World
from tests.functions.harness import Harness

Make = Callable[..., Any]
BEFORE_THE_RECORDINGS = datetime(2024, 1, 1, tzinfo=UTC).timestamp()


def calls(h: Harness) -> int:
    """Return how many API requests the fake has answered (login included)."""
    return int(h.world.fake.requests.count())


async def per_event(h: Harness, scenario: str) -> dict[str, int]:
    """Play a scenario's deliveries one by one; return the calls each one cost."""
    counts: dict[str, int] = {}
    for stem in [p.stem for p in sorted((scenarios_dir() / scenario).glob("*.json"))]:
        before = calls(h)
        await h.play(scenario, stem)
        counts[stem] = calls(h) - before
    print(f"Discord calls per event ({scenario}):", json.dumps(counts))
    return counts


async def steady(h: Harness) -> Harness:
    """Read the channels at start and let the store hold every mapping since 2024."""
    await ThreadStore(h.store).hold_every_mapping_since(BEFORE_THE_RECORDINGS)
    await startup_checks(h.deps)
    return h


# The deliveries that change what the PR's card shows (state, reviewers, title): one edit each.
CARD_CHANGES = {
    "03-converted-to-draft",
    "04-ready-for-review",
    "05-review-requested",
    "07-review-commented",
    "08-review-approved",
    "09-edited-title",
    "10-merged",
}


async def test_calls_per_event_in_a_text_channel(make_harness: Make) -> None:
    counts = await per_event(await steady(await make_harness()), "pr-lifecycle")
    assert counts.pop("01-opened") == 2  # POST thread, POST intro (the card as it opens)
    assert counts.pop("10-merged") == 3  # message, card edit (before archiving), archive PATCH
    assert counts.pop("09-edited-title") == 2  # the rename PATCH, the card's new title
    for stem, n in counts.items():  # a message, and a card edit only when the card changed
        assert n == 1 + (stem in CARD_CHANGES), (stem, n)


async def test_calls_per_event_in_a_forum(make_harness: Make, world: World) -> None:
    h = await steady(await make_harness(REPO_CHANNELS=f"octo-org/forum-demo={world.forum.id}"))
    counts = await per_event(h, "forum")
    assert counts["01-opened"] == 1  # the post and its first message are one POST


async def test_a_store_that_lost_its_mappings_searches_before_creating(make_harness: Make) -> None:
    h: Harness = await make_harness()  # a new store: it holds every mapping only from now on
    await startup_checks(h.deps)
    before = calls(h)
    await h.play("pr-lifecycle", "01-opened")
    assert calls(h) - before == 4  # active and archived threads, then the thread and its intro


async def test_burst_of_100_comments_arrives_in_order(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("redelivery", "01-opened")
    comment = load_delivery(scenarios_dir() / "redelivery" / "02-comment.json")
    before = calls(h)
    for i in range(100):

        def numbered(payload: dict[str, Any], i: int = i) -> None:
            payload["comment"]["body"] = f"comment {i:03d}"

        await h.variant("redelivery", "02-comment", f"burst-{i}", numbered)
    await h.settle()
    texts = [m.embeds[0]["description"] for m in h.messages(h.thread())[1:]]
    assert texts == [f"comment {i:03d}" for i in range(100)]
    assert calls(h) - before == 100 + h.world.fake.requests.count(status=429)
    assert h.world.fake.requests.count(status=429) <= 5
    assert comment.event == "issue_comment"
