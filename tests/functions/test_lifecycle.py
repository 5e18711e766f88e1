"""The whole PR story against the fake Discord: one thread that follows the PR."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.functions.harness import USERS, Harness, text_of

Make = Callable[..., Any]
HUBOT, OCTOCAT = (int(pair.split("=")[1]) for pair in USERS.split(",")[:2])


async def test_full_lifecycle(make_harness: Make) -> None:
    h: Harness = await make_harness()
    assert await h.play("pr-lifecycle") == ["queued"] * 10
    thread = h.thread()
    assert thread.type == 11  # public, never the private default
    assert thread.auto_archive_duration == 10080
    assert thread.name == "#42 Add French, German and Brazilian Portuguese greetings"
    assert thread.archived and not thread.locked
    messages = h.messages(thread)
    texts = [text_of(m) for m in messages]
    assert len(texts) == 9
    intro = messages[0].embeds[0]  # the card: edited in place to the latest title and state
    assert intro["title"] == "#42 Add French, German and Brazilian Portuguese greetings"
    fields = {f["name"]: f["value"] for f in intro["fields"]}
    assert fields["Status"] == "Merged"
    assert fields["Reviewers"] == "✅ **hubot** approved"
    assert fields["Size"] == "+12 −3 in 2 files"
    assert intro["url"] == "https://github.com/octo-org/hello-world/pull/42"
    assert "\r" not in intro["description"]
    assert "💬 monalisa commented" in texts[1]
    assert "marked this pull request as a draft" in texts[2]
    assert "ready for review" in texts[3]
    assert f"<@{HUBOT}> (**hubot**)" in texts[4]
    assert "hello/greetings.py line 9" in texts[5]
    assert "**hubot** reviewed" in texts[6]
    assert "approved" in texts[7] and f"<@{OCTOCAT}>" in texts[7]
    assert texts[8] == "🟣 Merged by **monalisa**"
    pinged = [m.pings.users for m in messages]
    assert pinged == [(), (), (), (), (HUBOT,), (), (), (OCTOCAT,), ()]
    assert not any(m.pings.everyone or m.pings.roles for m in messages)
    assert all(m.nonce and m.enforce_nonce for m in messages)
    assert await h.failed_runs() == []


async def test_closed_reopened_and_locked(make_harness: Make) -> None:
    h: Harness = await make_harness(LOCK_ON_CLOSE="true")
    await h.play("closed-reopened", "01-opened", "02-closed")
    assert h.thread().archived and h.thread().locked
    await h.play("closed-reopened", "03-reopened")
    assert not h.thread().archived and not h.thread().locked
    await h.play("closed-reopened", "04-comment", "05-closed-again")
    thread = h.thread()
    assert thread.archived and thread.locked
    texts = [text_of(m) for m in h.messages(thread)]
    assert texts[1] == "🔴 Closed by **codercat**"
    assert texts[2] == "🟢 Reopened by **codercat**"
    assert texts[4].startswith("🔴 Closed by")
    assert "duplicates #39" in texts[3]
    assert await h.failed_runs() == []


async def test_reviews_and_new_commits(make_harness: Make) -> None:
    h: Harness = await make_harness(NOTIFY_SYNCHRONIZE="true")
    await h.play("changes-requested")
    texts = [text_of(m) for m in h.messages(h.thread())]
    assert "requested changes" in texts[1] and "The cache never expires" in texts[1]
    assert "new commit" in texts[2]
    assert "approved" in texts[3]
    assert "dismissed" in texts[4] and "requested changes" not in texts[4]
    assert texts[5].startswith("🟣 Merged by")
    assert await h.failed_runs() == []


async def test_synchronize_is_quiet_by_default(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("changes-requested", "01-opened", "03-synchronize")
    assert len(h.messages(h.thread())) == 1


def _draft(payload: dict[str, Any]) -> None:
    payload["pull_request"]["draft"] = True


async def test_draft_quiet_waits_for_ready(make_harness: Make) -> None:
    h: Harness = await make_harness(DRAFT_QUIET="true")
    await h.variant("pr-lifecycle", "01-opened", "draft-opened", _draft)
    await h.settle()
    assert h.threads() == []
    await h.play("pr-lifecycle", "04-ready-for-review")
    (message,) = h.messages(h.thread())  # the intro, and no separate "ready" line
    assert message.embeds[0]["title"].startswith("#42 ")
    await h.play("pr-lifecycle", "03-converted-to-draft")  # a thread that exists keeps going
    assert "draft" in h.messages(h.thread())[-1].content


async def test_bot_prs_are_skipped_unless_enabled(make_harness: Make) -> None:
    def by_bot(payload: dict[str, Any]) -> None:
        payload["pull_request"]["user"]["login"] = "dependabot[bot]"

    h: Harness = await make_harness()
    await h.variant("pr-lifecycle", "01-opened", "bot-opened", by_bot)
    await h.settle()
    assert h.threads() == []


async def test_excluded_author_gets_no_thread(make_harness: Make) -> None:
    h: Harness = await make_harness(EXCLUDED_AUTHORS="octocat")
    await h.play("pr-lifecycle")
    assert h.threads() == []
    assert await h.failed_runs() == []


async def test_review_requested_from_a_team(make_harness: Make) -> None:
    def to_team(payload: dict[str, Any]) -> None:
        payload.pop("requested_reviewer", None)
        payload["requested_team"] = {"name": "Greeters", "slug": "greeters"}

    h: Harness = await make_harness()
    await h.play("pr-lifecycle", "01-opened")
    await h.variant("pr-lifecycle", "05-review-requested", "team-request", to_team)
    await h.settle()
    last = h.messages(h.thread())[-1]
    assert "team **Greeters**" in last.content and not last.pings.anyone


async def test_malformed_payload_is_a_visible_failure(make_harness: Make) -> None:
    def break_it(payload: dict[str, Any]) -> None:
        del payload["pull_request"]["title"]

    h: Harness = await make_harness()
    await h.variant("pr-lifecycle", "01-opened", "broken", break_it)
    await h.settle()
    # Both functions of a pull_request delivery fail on it, each visibly.
    assert len(await h.failed_runs()) == 2
    alerts = sorted(m.content for m in h.world.fake.messages_in(h.world.alerts.id))
    assert ["pr-card-facts" in alerts[0], "pr-thread-lifecycle" in alerts[1]] == [True, True]
