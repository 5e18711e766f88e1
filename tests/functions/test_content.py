"""What lands in Discord: cut bodies, no pings from user text, renames, tags, noise ignored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.ops.fixtures import scenarios_dir
from bot.runtime import Worker
from tests.discord.world import FORUM_TAGS
from tests.functions.harness import Harness, text_of

Make = Callable[..., Any]
LAST_TITLE = (
    "Release checklist for v2.0: migration notes, deprecation schedule, rollback plan and "
    "on-call handover for launch week"
)


async def test_five_thousand_char_comment_is_cut_with_a_link(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("edge-cases", "02-opened-after-its-comment", "04-comment-5000-chars")
    comment = h.messages(h.thread())[-1]
    description = comment.embeds[0]["description"]
    assert len(description) <= 4096
    assert description.endswith(")") and "[continued on GitHub](https://github.com/" in description
    assert description.count("```") % 2 == 0
    assert await h.failed_runs() == []


async def test_everyone_in_title_and_comments_pings_nobody(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("edge-cases", "01-comment-before-opened", "02-opened-after-its-comment")
    await h.play("edge-cases", "03-comment-mentions")
    thread = h.thread()
    assert thread.name.startswith("#43 @everyone")
    messages = h.messages(thread)
    assert "@everyone @here <@&123>" in text_of(messages[-1])
    assert all(not m.pings.anyone for m in messages)
    assert all(
        m.allowed_mentions is not None and m.allowed_mentions["parse"] == [] for m in messages
    )


async def test_three_title_edits_in_a_minute_end_on_the_last_title(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("edge-cases", "02-opened-after-its-comment")
    await h.deliver("edge-cases", "05-edited-title-1", "06-edited-title-2", "07-edited-title-3")
    await h.settle()  # renames wait out Discord's 2 per 10 minutes on both clocks
    thread = h.thread()
    expected = f"#43 {LAST_TITLE}"[:99].rstrip() + "…"
    assert thread.name == expected and len(thread.name) == 100
    assert len(thread.renames) <= 2  # coalesced: only the latest title is applied
    assert await h.failed_runs() == []


async def test_rename_wait_never_holds_back_comments(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("edge-cases", "02-opened-after-its-comment")
    await h.play("edge-cases", "05-edited-title-1", "06-edited-title-2")
    thread = h.thread()
    for _ in range(2):  # use up the two renames of this window
        thread.renames.append(h.world.fake.now())
    await h.deliver("edge-cases", "07-edited-title-3", "03-comment-mentions")
    await Worker(h.runtime).run_until_idle()  # no clock moves: the rename is rescheduled
    assert "@everyone @here" in text_of(h.messages(h.thread())[-1])
    assert not h.thread().name.endswith("…")
    await h.settle()
    assert h.thread().name.endswith("…")


async def test_forum_mode_keeps_status_in_tags(make_harness: Make) -> None:
    probe: Harness = await make_harness()
    forum = probe.world.forum
    h: Harness = await make_harness(REPO_CHANNELS=f"octo-org/forum-demo={forum.id}")
    tag = {t.name: t.id for t in forum.available_tags}
    seen: list[list[int]] = []
    for stem in [p.stem for p in sorted((scenarios_dir() / "forum").glob("*.json"))]:
        await h.play("forum", stem)
        seen.append(list(h.thread(forum=True).applied_tags))
    assert seen[0] == [tag["open"]]
    assert seen[2] == [tag["draft"]]
    assert seen[3] == [tag["open"]]
    assert seen[7] == [tag["open"], tag["approved"]]
    assert seen[9] == [tag["merged"], tag["approved"]]
    post = h.thread(forum=True)
    assert post.archived
    assert post.name == "#7 Add French, German and Brazilian Portuguese greetings"
    messages = h.messages(post)
    # The starter message is the card: edited in place to the latest title and state.
    card = messages[0].embeds[0]
    assert card["title"] == "#7 Add French, German and Brazilian Portuguese greetings"
    assert {"name": "Status", "value": "Merged", "inline": True} in card["fields"]
    assert len(messages) == 9
    assert h.threads() == []  # nothing in the text channel
    assert set(FORUM_TAGS) <= set(tag)
    assert await h.failed_runs() == []


async def test_plain_issue_comments_and_noise_are_ignored(make_harness: Make) -> None:
    h: Harness = await make_harness()
    statuses = await h.play("noise")
    # The status and check run are kept for their commit (a PR may turn out to head it), but
    # no PR is known for it: nothing reaches Discord. The comment on a plain issue is queued
    # (comments are wanted) and a worker's planning finds no function for an issue's comment.
    assert statuses == ["pong", "ignored", "queued", "queued", "ignored", "queued"]
    assert await h.runtime.store.reads.inbox_depth() == 0
    assert h.threads() == []
    assert h.world.fake.requests.count(method="POST") == 0
