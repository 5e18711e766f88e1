"""Discord follows what GitHub changes, over real HTTP: edits, deletions, and prbot's own echo."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fakes.github_world import app_key
from tests.functions.harness import Harness, text_of

Make = Callable[..., Any]
EDIT_ROUTE = "/channels/{channel_id}/messages/{message_id}"


def texts(h: Harness) -> list[str]:
    """Return the text of every message in the PR's thread, oldest first."""
    return [text_of(m) for m in h.messages(h.thread())]


async def test_edits_and_deletions_follow_github(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("edits", "01-opened", "02-comment")
    comment_id = h.messages(h.thread())[1].id
    await h.play("edits", "03-comment-edited")
    edited = h.messages(h.thread())[1]
    assert edited.id == comment_id and edited.edited_at is not None
    assert "an unset `LANG` both fall back" in edited.embeds[0]["description"]
    await h.play("edits", "04-review-comment")
    assert any("Typo" in t for t in texts(h))
    await h.play("edits", "05-review-comment-deleted")
    assert not any("Typo" in t for t in texts(h))
    await h.play("edits", "06-review-approved", "07-review-edited")
    approval = h.messages(h.thread())[2]
    assert approval.content.startswith("✅ **hubot** approved")
    assert approval.embeds[0]["description"] == (
        "Reads well. One nit: `LANG=C` deserves its own line."
    )
    assert approval.pings.users == (500000000000000002,)  # octocat stays mapped, as posted
    assert await h.failed_runs() == []


async def test_a_change_after_the_merge_leaves_the_thread_archived(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("edits", "01-opened", "02-comment", "12-merged")
    thread = h.thread()
    assert thread.archived
    await h.play("edits", "13-comment-edited-after-merge")
    assert thread.archived
    assert "(Answered in the README now.)" in text_of(h.messages(thread)[1])
    await h.play("edits", "14-comment-deleted-after-merge")
    assert thread.archived
    assert not any("LANG=C" in t for t in texts(h))
    assert await h.failed_runs() == []


async def test_an_edit_whose_answer_is_lost_is_made_once(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("edits", "01-opened", "02-comment")
    h.world.fake.faults.lose_next("PATCH", EDIT_ROUTE)
    await h.play("edits", "03-comment-edited")
    statuses = h.world.fake.requests.statuses("PATCH", EDIT_ROUTE)
    assert statuses[-2:] == [502, 200]  # carried out, answer lost; the retry writes the same
    assert len(h.messages(h.thread())) == 2
    assert "an unset `LANG`" in text_of(h.messages(h.thread())[1])
    assert await h.failed_runs() == []


async def test_edits_of_what_prbot_never_posted_change_nothing(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("edits", "01-opened", "03-comment-edited", "05-review-comment-deleted")
    assert len(h.messages(h.thread())) == 1  # the card only
    assert h.world.fake.requests.count(method="DELETE") == 0
    assert await h.failed_runs() == []


async def test_prbots_own_comments_never_come_back(make_harness: Make) -> None:
    private, _ = app_key()
    h: Harness = await make_harness(
        GITHUB_APP_ID="4242", GITHUB_APP_PRIVATE_KEY=private, GITHUB_BACKLINK="false"
    )
    await h.play("edits", "01-opened")

    def marked(payload: dict[str, Any]) -> None:
        payload["comment"]["body"] = "<!-- prbot:discord:123 -->\nsaid on Discord"

    def by_the_app(payload: dict[str, Any]) -> None:
        payload["comment"]["performed_via_github_app"] = {"id": 4242, "slug": "prbot"}

    def by_another_app(payload: dict[str, Any]) -> None:
        payload["comment"]["performed_via_github_app"] = {"id": 7, "slug": "other"}

    await h.variant("edits", "02-comment", "echo-marker", marked)
    await h.variant("edits", "02-comment", "echo-app", by_the_app)
    await h.variant("edits", "02-comment", "other-app", by_another_app)
    await h.settle()
    assert len(h.messages(h.thread())) == 2  # the card, and the other app's comment
    assert await h.failed_runs() == []
