"""The loop guard, and the note that lets a Discord reply find its inline review thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.prs.mirror import marker
from bot.prs.mirroring import KIND, REVIEW_KIND, SELF
from tests.functions.harness import Harness, text_of

Make = Callable[..., Any]
MIRRORED = f"**Alice** wrote [on Discord](https://discord.com/channels/1/2/3):\n\nhi\n\n{marker(3)}"


def authored(login: str, body: str) -> Callable[[dict[str, Any]], None]:
    """Return a change that makes a fixture's comment `login`'s, saying `body`."""

    def change(payload: dict[str, Any]) -> None:
        payload["comment"]["user"]["login"] = login
        payload["comment"]["body"] = body

    return change


async def started(make_harness: Make) -> Harness:
    """Return a harness whose PR has its thread, and prbot known on GitHub as `octocat`."""
    h: Harness = await make_harness()
    await h.play("pr-lifecycle", "01-opened")
    await h.store.data.update(KIND, SELF, {"login": "octocat"})
    return h


async def test_a_comment_prbot_mirrored_is_not_posted_back(make_harness: Make) -> None:
    h = await started(make_harness)
    before = len(h.messages(h.thread()))
    await h.variant("pr-lifecycle", "02-comment", "echo-1", authored("octocat", MIRRORED))
    await h.variant("pr-lifecycle", "06-review-comment", "echo-2", authored("octocat", MIRRORED))
    await h.settle()
    assert len(h.messages(h.thread())) == before
    assert await h.failed_runs() == []


async def test_a_person_quoting_the_marker_is_still_heard(make_harness: Make) -> None:
    h = await started(make_harness)
    await h.variant("pr-lifecycle", "02-comment", "quote-1", authored("monalisa", MIRRORED))
    await h.variant("pr-lifecycle", "02-comment", "plain-1", authored("octocat", "by hand"))
    await h.settle()
    texts = [text_of(m) for m in h.messages(h.thread())]
    assert any("monalisa commented" in t for t in texts)
    assert any("by hand" in t for t in texts)  # the token's user writing on GitHub themselves


async def test_a_forwarded_review_comment_is_noted_for_replies(make_harness: Make) -> None:
    h = await started(make_harness)
    await h.play("pr-lifecycle", "06-review-comment")
    posted = h.messages(h.thread())[-1]
    assert "French typography" in text_of(posted)
    assert await h.store.data.field(REVIEW_KIND, str(posted.id), "id") == "1593406827"
