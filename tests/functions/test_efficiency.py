"""Discord calls per event: about one in steady state, no scans, no 429 storms in a burst."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.ops.fixtures import load_delivery, scenarios_dir
from tests.functions.harness import Harness

Make = Callable[..., Any]


def calls(h: Harness) -> int:
    """Return how many API requests the fake has answered (login included)."""
    return int(h.world.fake.requests.count())


async def test_calls_per_event(make_harness: Make) -> None:
    h: Harness = await make_harness()
    counts: dict[str, int] = {}
    for stem in [p.stem for p in sorted((scenarios_dir() / "pr-lifecycle").glob("*.json"))]:
        before = calls(h)
        await h.play("pr-lifecycle", stem)
        counts[stem] = calls(h) - before
    print("Discord calls per event:", json.dumps(counts))
    # opened: GET channel, GET active + archived threads (search), POST thread, GET active
    # (twin check), POST intro.
    assert counts.pop("01-opened") <= 6
    assert counts.pop("10-merged") == 2  # message + archive PATCH
    assert counts.pop("09-edited-title") == 1  # the rename PATCH
    assert all(n == 1 for n in counts.values()), counts


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
