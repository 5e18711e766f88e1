"""Review reminders via the real route, runtime and fake Discord: who, how often, what ends them.

#42 of pr-lifecycle asks hubot for a review in 05-review-requested.
"""

from __future__ import annotations

from typing import Any, cast

from bot.prs.awaiting import AwaitingIndex
from bot.runtime import run_id_for
from functions.review_reminders import FUNCTION_ID
from tests.fakes.discord_models import Message
from tests.functions.harness import Harness, HarnessFactory

HOUR_S = 3600
HUBOT, MONALISA = 500000000000000001, 500000000000000003
PR = "octo-org/hello-world#42"
READY_AND_ASKED = ("01-opened", "02-comment", "03-converted-to-draft", "04-ready-for-review",
                   "05-review-requested")  # fmt: skip


async def later(h: Harness, seconds: float) -> None:
    """Let `seconds` pass on both clocks, then run what became due."""
    h.clock.advance(seconds)
    h.world.fake.advance(seconds)
    await h.settle()


def reminders(h: Harness) -> list[Message]:
    """Return the reminders in #42's thread."""
    return [m for m in h.messages(h.thread()) if m.content.startswith("⏰")]


async def status_of(h: Harness, delivery_id: str) -> dict[str, str]:
    """Return the state of the reminder run that a delivery started."""
    state, _, _ = await h.store.reads.run(run_id_for(delivery_id, FUNCTION_ID))
    return state


async def asked(make_harness: HarnessFactory) -> Harness:
    """Return a harness where #42 is ready and asks hubot for a review (reminders after 1h)."""
    h: Harness = await make_harness(REVIEW_REMINDER_AFTER="1h")
    await h.play("pr-lifecycle", *READY_AND_ASKED)
    return h


async def test_reminders_ping_the_mapped_reviewer_each_period_at_most_three_times(
    make_harness: HarnessFactory,
) -> None:
    h = await asked(make_harness)
    # The wait began when the reminder run parked, a debounced card edit or so before now.
    timers = cast(
        list[tuple[str, float]],
        await h.store.redis.zrange(h.store.keys.timers, 0, 0, withscores=True),
    )
    [(_, due_ms)] = timers
    await later(h, (due_ms - h.clock.now_ms()) / 1000 - 1)
    assert (due_ms - h.clock.now_ms()) / 1000 + HOUR_S - 1 > HOUR_S - 10  # about an hour in all
    assert reminders(h) == []  # not before the period is over
    await later(h, 1)
    [first] = reminders(h)
    assert first.content == (
        f"⏰ <@{HUBOT}> (**hubot**): this pull request has waited 1h for a review (reminder 1 of 3)"
    )
    assert first.allowed_mentions == {"parse": [], "users": [HUBOT]}
    assert first.pings.users == (HUBOT,) and not first.pings.everyone
    for _ in range(4):
        await later(h, HOUR_S)
    assert [m.content.split(": ")[1] for m in reminders(h)] == [
        "this pull request has waited 1h for a review (reminder 1 of 3)",
        "this pull request has waited 2h for a review (reminder 2 of 3)",
        "this pull request has waited 3h for a review (reminder 3 of 3)",
    ]
    state = await status_of(h, h.answers[4]["id"])
    assert (state["status"], state["output"]) == ("completed", '"reminded 3 times"')
    assert await h.store.reads.parked() == 0
    assert await h.failed_runs() == []


async def test_a_review_ends_the_wait_but_the_authors_own_reply_does_not(
    make_harness: HarnessFactory,
) -> None:
    h = await asked(make_harness)
    await later(h, HOUR_S)
    assert len(reminders(h)) == 1

    def by_the_author(payload: dict[str, Any]) -> None:
        payload["review"]["user"]["login"] = "octocat"

    await h.variant("pr-lifecycle", "07-review-commented", "reply-by-author", by_the_author)
    await h.settle()
    await later(h, HOUR_S)
    assert len(reminders(h)) == 2
    await h.play("pr-lifecycle", "07-review-commented")  # hubot reviews
    await later(h, 3 * HOUR_S)
    assert len(reminders(h)) == 2
    state = await status_of(h, h.answers[4]["id"])
    assert (state["status"], state["output"]) == ("completed", '"reviewed by hubot"')
    assert await AwaitingIndex(h.store).get(PR) is None


async def test_a_draft_or_a_merge_cancels_the_reminders(make_harness: HarnessFactory) -> None:
    h = await asked(make_harness)
    await h.variant("pr-lifecycle", "03-converted-to-draft", "draft-again", lambda p: None)
    await h.settle()
    state = await status_of(h, h.answers[4]["id"])
    assert (state["status"], state["cancelled_by"]) == ("cancelled", "event draft-again")
    await later(h, 4 * HOUR_S)
    assert reminders(h) == []

    await h.variant("pr-lifecycle", "04-ready-for-review", "ready-again", _asks_hubot)
    await h.settle()
    await later(h, HOUR_S)
    assert len(reminders(h)) == 1
    await h.play("pr-lifecycle", "10-merged")
    state = await status_of(h, "ready-again")
    assert (state["status"], state["cancelled_by"]) == ("cancelled", f"event {h.answers[-1]['id']}")
    await later(h, 4 * HOUR_S)
    assert len(reminders(h)) == 1
    assert await h.failed_runs() == []


def _asks_hubot(payload: dict[str, Any]) -> None:
    payload["pull_request"]["requested_reviewers"] = [{"login": "hubot", "type": "User"}]


async def test_several_starts_make_one_chain_the_newest(make_harness: HarnessFactory) -> None:
    h = await asked(make_harness)
    await later(h, HOUR_S / 2)

    def asks_monalisa_too(payload: dict[str, Any]) -> None:
        payload["requested_reviewer"] = {"login": "monalisa", "type": "User"}
        payload["pull_request"]["requested_reviewers"] = [
            {"login": "hubot", "type": "User"},
            {"login": "monalisa", "type": "User"},
        ]
        payload["pull_request"]["requested_teams"] = [{"name": "Docs", "slug": "docs"}]

    await h.variant("pr-lifecycle", "05-review-requested", "also-monalisa", asks_monalisa_too)
    await h.settle()
    assert (await status_of(h, h.answers[4]["id"]))["status"] == "cancelled"
    await later(h, HOUR_S / 2)
    assert reminders(h) == []  # the first chain would have reminded now
    await later(h, HOUR_S / 2)
    [only] = reminders(h)
    assert only.content.startswith(
        f"⏰ <@{HUBOT}> (**hubot**), <@{MONALISA}> (**monalisa**), team **Docs**: "
    )
    assert only.pings.users == (HUBOT, MONALISA)
    entry = await AwaitingIndex(h.store).get(PR)
    assert entry is not None and entry.reviewers == ("hubot", "monalisa")
    assert entry.teams == ("Docs",)


async def test_a_review_while_the_run_was_busy_is_seen_in_the_index(
    make_harness: HarnessFactory,
) -> None:
    h: Harness = await make_harness(REVIEW_REMINDER_AFTER="1h")
    await h.play("pr-lifecycle", *READY_AND_ASKED[:-1])
    # The review arrives before the reminder run has begun to wait: the wait cannot see it.
    await h.deliver("pr-lifecycle", "05-review-requested", "07-review-commented")
    await h.settle()
    assert (await status_of(h, h.answers[4]["id"]))["status"] == "waiting"
    await later(h, HOUR_S)
    assert reminders(h) == []
    state = await status_of(h, h.answers[4]["id"])
    assert (state["status"], state["output"]) == ("completed", '"reviewed"')


async def test_no_reminders_unless_turned_on(make_harness: HarnessFactory) -> None:
    h: Harness = await make_harness()
    await h.play("pr-lifecycle", *READY_AND_ASKED)
    await later(h, 4 * HOUR_S)
    assert reminders(h) == []
    assert await h.store.reads.run(run_id_for(h.answers[4]["id"], FUNCTION_ID)) == ({}, {}, [])
