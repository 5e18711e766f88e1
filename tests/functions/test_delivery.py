"""Exactly-once toward Discord: redeliveries, early comments, lost mappings, faults, failures."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from tests.functions.harness import Harness, text_of

Make = Callable[..., Any]


async def test_redelivery_is_not_doubled(make_harness: Make) -> None:
    h: Harness = await make_harness()
    assert await h.play("redelivery") == ["queued", "queued", "duplicate", "queued"]
    texts = [text_of(m) for m in h.messages(h.thread())]
    assert len(texts) == 3
    assert "Good catch, thanks!" in texts[1]
    assert "Merging once CI is green." in texts[2]


async def test_redelivery_after_the_dedup_window_makes_no_second_run(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("redelivery", "01-opened", "02-comment")
    await h.store.redis.delete(*[k async for k in h.store.redis.scan_iter(match="*:dedup:*")])
    await h.play("redelivery", "03-comment-redelivered")
    assert len(h.messages(h.thread())) == 2


async def test_comment_before_opened_makes_one_thread(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("edge-cases", "01-comment-before-opened", "02-opened-after-its-comment")
    thread = h.thread()
    assert thread.name == "#43 @everyone please review: release checklist for v2.0"
    messages = h.messages(thread)
    assert len(messages) == 2  # the intro (made from the comment's payload), then the comment
    assert messages[0].embeds[0]["title"].startswith("#43 ")
    assert "Looking at this now" in text_of(messages[1])


async def test_comment_and_opened_in_one_batch_make_one_thread(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.deliver("edge-cases", "01-comment-before-opened", "02-opened-after-its-comment")
    await h.settle()
    assert len(h.messages(h.thread())) == 2


async def test_mapping_lost_mid_way_readopts_the_thread(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("pr-lifecycle", "01-opened", "02-comment", "03-converted-to-draft")
    await h.store.redis.delete(h.store.keys.data("thread", "octo-org/hello-world#42"))
    await h.play("pr-lifecycle", "04-ready-for-review", "05-review-requested")
    await h.store.redis.delete(h.store.keys.data("thread", "octo-org/hello-world#42"))
    await h.play("pr-lifecycle", *_rest_of_lifecycle())
    thread = h.thread()
    assert len(h.messages(thread)) == 9
    assert thread.name.startswith("#42 Add French, German and Brazilian")


def _rest_of_lifecycle() -> list[str]:
    return [
        "06-review-comment",
        "07-review-commented",
        "08-review-approved",
        "09-edited-title",
        "10-merged",
    ]


async def test_mapping_lost_after_close_finds_the_archived_thread(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("closed-reopened", "01-opened", "02-closed")
    await h.store.redis.delete(h.store.keys.data("thread", "octo-org/hello-world#44"))
    await h.play("closed-reopened", "03-reopened", "04-comment")
    thread = h.thread()
    assert not thread.archived
    assert len(h.messages(thread)) == 4


async def test_long_rate_limit_reschedules_without_loss(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("redelivery", "01-opened")
    h.world.fake.faults.fail_next("POST", "/channels/*/messages", 429, retry_after_s=120)
    await h.play("redelivery", "02-comment")
    assert len(h.messages(h.thread())) == 2
    assert await h.failed_runs() == []


@pytest.mark.parametrize("seed", [1, 7, 13])
async def test_random_5xx_and_429_lose_and_double_nothing(make_harness: Make, seed: int) -> None:
    h: Harness = await make_harness()
    h.world.fake.faults.update(
        {"p5xx": 0.2, "p429": 0.1, "retry_after_s": 0.2, "p_apply_then_fail": 0.5, "seed": seed}
    )
    for scenario in ("pr-lifecycle", "closed-reopened", "changes-requested", "redelivery"):
        await h.play(scenario)
    h.world.fake.faults.update({"p5xx": 0, "p429": 0})
    # A 500 after Discord made a thread makes discord.py retry the POST itself: the twin is
    # renamed out of the PR's prefix, archived and locked, and never used.
    twins = [t for t in h.threads() if t.name.startswith("duplicate ")]
    assert all(t.archived and t.locked and not h.messages(t) for t in twins)
    threads = {t.name.split(" ")[0]: t for t in h.threads() if t not in twins}
    assert len(threads) == len(h.threads()) - len(twins)
    counts = {n: len(h.messages(t)) for n, t in threads.items()}
    assert counts == {"#42": 9, "#44": 5, "#45": 5, "#46": 3}
    for thread in threads.values():
        texts = Counter(text_of(m) for m in h.messages(thread))
        assert max(texts.values()) == 1
    assert await h.failed_runs() == []
    assert h.world.fake.requests.count(status=500) + h.world.fake.requests.count(status=503)


async def test_failed_run_posts_an_alert(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("redelivery", "01-opened")
    thread = h.thread()
    h.world.fake.faults.fail_next("POST", f"/channels/{thread.id}/messages", 403)
    await h.play("redelivery", "02-comment")
    (failed,) = await h.failed_runs()
    (alert,) = h.world.fake.messages_in(h.world.alerts.id)
    assert failed in alert.content and "pr-comments" in alert.content
    assert "(DiscordApiError)" in alert.content  # the error's type, never its message:
    assert "injected" not in alert.content  # messages can quote the payload
    assert not alert.pings.anyone


async def test_comment_on_a_closed_locked_thread_is_still_posted(make_harness: Make) -> None:
    h: Harness = await make_harness(LOCK_ON_CLOSE="true")
    await h.play("closed-reopened", "01-opened", "02-closed", "04-comment")
    thread = h.thread()
    assert "duplicates #39" in text_of(h.messages(thread)[-1])
    assert not thread.archived and thread.locked
    assert await h.failed_runs() == []


async def test_deleted_thread_is_made_again(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("redelivery", "01-opened")
    gone = h.thread()
    del h.world.fake.state.threads[gone.id]  # a moderator deleted it
    await h.play("redelivery", "02-comment")
    thread = h.thread()
    assert thread.id != gone.id
    texts = [text_of(m) for m in h.messages(thread)]
    assert texts[0].startswith("\n#46 ") and "Good catch" in texts[1]
    assert await h.failed_runs() == []
