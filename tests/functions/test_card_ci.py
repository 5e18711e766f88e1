"""The live card and CI over real HTTP: webhooks in, the fake Discord out, Redis in between."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.discord.world import World
from tests.fakes.discord_models import Message
from tests.functions.harness import Harness

Make = Callable[..., Any]
FIRST_SHA, SECOND_SHA = "3f1c7d2", "8e2d1c0"


def card_fields(message: Message) -> dict[str, str]:
    """Return the card's fields by name."""
    return {f["name"]: f["value"] for f in message.embeds[0].get("fields", [])}


def failures(h: Harness, name: str) -> list[str]:
    """Return the thread's messages saying that check `name` failed."""
    return [m.content for m in h.messages(h.thread())[1:] if f"[{name}](" in m.content]


async def test_a_forks_checks_reach_its_card_through_its_head_commit(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("ci", "01-opened", "02-check-suite-requested", "03-check-run-build-started")
    assert card_fields(h.messages(h.thread())[0])["Checks"] == "⏳ 1 pending"
    await h.play("ci", "04-check-run-lint-failed", "05-status-docs-error")
    card = card_fields(h.messages(h.thread())[0])["Checks"]
    assert card.startswith("❌ 2 failed · ⏳ 1 pending\nFailing: [docs/build](<https://ci.ex")
    assert failures(h, "lint") == [
        "❌ check [lint](<https://github.com/octo-org/hello-world/actions/runs/770725010002>) "
        f"failed on `{FIRST_SHA}`"
    ]
    assert failures(h, "docs/build") == [
        "❌ status [docs/build](<https://ci.example.com/octo-org/hello-world/docs/4801>) "
        f"failed on `{FIRST_SHA}`"
    ]
    assert await h.failed_runs() == []


async def test_a_failing_check_is_said_once_per_name_and_head_commit(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("ci", "01-opened", "04-check-run-lint-failed")
    # GitHub's redelivery (same id), the same failure again, and a re-run failing again.
    assert await h.deliver("ci", "04-check-run-lint-failed") == ["duplicate"]
    await h.variant("ci", "04-check-run-lint-failed", "lint-again", lambda p: None)
    await h.play("ci", "06-check-run-lint-rerun-failed")
    await h.settle()
    assert len(failures(h, "lint")) == 1
    # A new head commit failing the same check is news.
    await h.play("ci", "08-synchronize")

    def fails(payload: dict[str, Any]) -> None:
        payload["check_run"]["conclusion"] = "failure"

    await h.variant("ci", "09-check-run-lint-passed", "lint-fails-on-new-head", fails)
    await h.settle()
    said = failures(h, "lint")
    assert len(said) == 2 and said[1].endswith(f"failed on `{SECOND_SHA}`")
    assert await h.failed_runs() == []


async def test_a_later_success_shows_on_the_card(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("ci", "01-opened", "03-check-run-build-started", "04-check-run-lint-failed")
    assert "Failing: [lint]" in card_fields(h.messages(h.thread())[0])["Checks"]

    def passes(payload: dict[str, Any]) -> None:
        payload["check_run"].update(id=25010077, conclusion="success")

    await h.variant("ci", "04-check-run-lint-failed", "lint-passes", passes)
    await h.play("ci", "07-check-run-build-passed")
    assert card_fields(h.messages(h.thread())[0])["Checks"] == "✅ 2 passed"
    assert len(failures(h, "lint")) == 1  # the failure was said; the success is on the card


async def test_twenty_check_runs_in_two_seconds_make_one_card_edit(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("ci", "01-opened")
    before = h.patches()
    for i in range(20):

        def job(payload: dict[str, Any], i: int = i) -> None:
            payload["check_run"].update(id=26000000 + i, name=f"job-{i:02d}")

        await h.variant("ci", "07-check-run-build-passed", f"burst-{i}", job)
        await h.run_due()  # the CI runs keep each check as it comes
        h.advance(0.1)
    await h.settle()
    assert h.patches() - before == 1
    assert card_fields(h.messages(h.thread())[0])["Checks"] == "✅ 20 passed"


async def test_a_steady_stream_still_shows_within_the_longest_wait(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("ci", "01-opened")
    before = h.patches()
    seen = []
    for i in range(16):  # one check a second for 16 s: the debounce alone would never fire

        def job(payload: dict[str, Any], i: int = i) -> None:
            payload["check_run"].update(id=27000000 + i, name=f"step-{i:02d}")

        await h.variant("ci", "07-check-run-build-passed", f"stream-{i}", job)
        await h.run_due()
        seen.append(h.patches() - before)
        h.advance(1.0)
    await h.settle()
    assert seen[9] == 0 and seen[11] == 1  # shown 10 s after the first, not after the last
    assert h.patches() - before == 2
    assert card_fields(h.messages(h.thread())[0])["Checks"] == "✅ 16 passed"


async def test_forum_tags_follow_failing_checks(make_harness: Make, world: World) -> None:
    tags = ["open", "draft", "approved", "merged", "closed", "checks failing"]
    forum = world.fake.add_forum_channel(world.guild.id, "ci-forum", tags=tags)
    tag = {t.name: t.id for t in forum.available_tags}
    h: Harness = await make_harness(REPO_CHANNELS=f"octo-org/hello-world={forum.id}")
    await h.play("ci", "01-opened", "04-check-run-lint-failed")
    (post,) = world.fake.threads_in(forum.id)
    assert set(post.applied_tags) == {tag["open"], tag["checks failing"]}
    await h.play("ci", "08-synchronize")  # the new head has no failing check (yet)
    assert set(post.applied_tags) == {tag["open"]}
    await h.play("ci", "09-check-run-lint-passed")
    assert set(post.applied_tags) == {tag["open"]}
    assert await h.failed_runs() == []


async def test_labels_become_forum_tags_and_go_with_the_label(
    make_harness: Make, world: World
) -> None:
    tags = ["open", "approved", "merged", "good first issue", "documentation"]
    forum = world.fake.add_forum_channel(world.guild.id, "docs-forum", tags=tags)
    tag = {t.name: t.id for t in forum.available_tags}
    h: Harness = await make_harness(REPO_CHANNELS=f"octo-org/hello-world={forum.id}")
    await h.play("edits", "01-opened")
    post = world.fake.threads_in(forum.id)[0]
    # Made with its status tag only; the card's refresh adds the label's.
    assert set(post.applied_tags) == {tag["open"], tag["documentation"]}
    await h.play("edits", "08-labeled")
    assert set(post.applied_tags) == {tag["open"], tag["documentation"], tag["good first issue"]}
    await h.play("edits", "09-unlabeled")
    assert set(post.applied_tags) == {tag["open"], tag["good first issue"]}
    assert card_fields(h.messages(post)[0])["Labels"] == "good first issue"
    await h.play("edits", "12-merged")
    assert post.archived and set(post.applied_tags) == {tag["merged"], tag["good first issue"]}
    assert await h.failed_runs() == []


async def test_excluded_labels_apply_as_labels_change(make_harness: Make) -> None:
    h: Harness = await make_harness(EXCLUDED_LABELS="documentation")
    await h.play("edits", "01-opened", "02-comment", "08-labeled")
    assert h.threads() == []  # still labelled documentation
    await h.play("edits", "09-unlabeled")
    thread = h.thread()
    assert card_fields(h.messages(thread)[0])["Labels"] == "good first issue"
    assert await h.failed_runs() == []
