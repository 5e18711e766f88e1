"""Backlinks, echoes and the card from the API: prbot between the fake Discord and the fake
GitHub over real HTTP, with a token and as an App."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.runtime.inspect import get_run, list_runs
from tests.discord.world import World
from tests.functions.github_scene import CI_SHA, MARKER, Scene
from tests.functions.harness import text_of

Make = Callable[..., Any]
COMMENTS = "/repos/*/issues/*/comments"


def card_fields(scene: Scene) -> dict[str, str]:
    """Return the fields of the PR's card."""
    first = scene.h.messages(scene.h.thread())[0]
    return {f["name"]: f["value"] for f in first.embeds[0].get("fields", [])}


async def test_each_pr_gets_exactly_one_backlink(make_scene: Make, world: World) -> None:
    s: Scene = await make_scene()
    await s.h.play("edits", "01-opened")
    (link,) = s.backlinks()
    thread = s.h.thread()
    assert link.body == (
        f"{MARKER}\n💬 This pull request is discussed on Discord: "
        f"https://discord.com/channels/{world.guild.id}/{thread.id}"
    )
    if s.mode == "app":
        assert link.user.login == "prbot[bot]" and link.app_id == s.app.id
    else:
        assert link.user.login == "prbot-bot" and link.app_id is None
    await s.h.play("edits", "02-comment", "06-review-approved", "08-labeled", "12-merged")
    assert len(s.backlinks()) == 1 and s.posts() == 1
    assert await s.h.failed_runs() == []


async def test_a_new_thread_edits_the_backlink(make_scene: Make, world: World) -> None:
    s: Scene = await make_scene()
    await s.h.play("edits", "01-opened")
    old = s.h.thread()
    del world.fake.state.threads[old.id]  # someone deleted the thread on Discord
    await s.h.play("edits", "02-comment")  # posting finds it gone and makes a new one
    await s.h.play("edits", "08-labeled")  # the next change of the PR fixes the link
    (new,) = [t for t in s.h.threads() if t.id != old.id]
    (link,) = s.backlinks()
    assert link.body.endswith(f"/{world.guild.id}/{new.id}")
    assert s.posts() == 1
    assert (
        s.fake.requests.count(
            method="PATCH", route="/repos/{owner}/{repo}/issues/comments/{comment_id}"
        )
        == 1
    )


async def test_a_lost_answer_to_the_backlink_post_is_found_not_posted_again(
    make_scene: Make,
) -> None:
    s: Scene = await make_scene()
    s.fake.faults.fail_next("POST", COMMENTS, "lost")
    await s.h.play("edits", "01-opened")
    assert len(s.backlinks()) == 1 and s.posts() == 1
    s.fake.faults.fail_next("POST", COMMENTS, "drop")
    await s.h.play("ci", "01-opened")  # another PR: the connection dropped after the write
    assert len(s.backlinks(48)) == 1 and s.posts() == 2
    assert await s.h.failed_runs() == []


async def test_rate_limits_make_the_backlink_wait_not_fail(make_scene: Make) -> None:
    s: Scene = await make_scene()
    s.fake.faults.fail_next("POST", COMMENTS, "secondary", retry_after_s=120)
    s.fake.faults.fail_next("GET", COMMENTS, "primary")
    started = s.fake.now()
    await s.h.play("edits", "01-opened")
    assert len(s.backlinks()) == 1
    assert s.fake.now() - started >= 120  # waited GitHub's Retry-After, on the clocks
    assert s.posts() == 2  # the refused one (nothing made), then the one that made it
    assert await s.h.failed_runs() == []


async def test_with_api_access_the_card_is_read_from_github(make_scene: Make) -> None:
    s: Scene = await make_scene()
    s.fake.add_check_run(s.repo, CI_SHA, "build", conclusion="failure",
                         details_url="https://ci.test/build/1")  # fmt: skip
    s.fake.add_check_run(s.repo, CI_SHA, "lint", status="in_progress", conclusion=None)
    # No commit statuses at all: the combined status says "pending", which is no check.
    await s.h.play("ci", "01-opened")
    checks = card_fields(s)["Checks"]
    assert checks.splitlines()[0] == "❌ 1 failed · ⏳ 1 pending"
    said = [m.content for m in s.h.messages(s.h.thread())[1:]]
    assert said == [f"❌ check [build](<{_run_url(s, 'build')}>) failed on `3f1c7d2`"]
    s.fake.add_status(s.repo, CI_SHA, "success", "docs/build")
    s.fake.add_check_run(s.repo, CI_SHA, "build", conclusion="success")
    await s.h.play("ci", "07-check-run-build-passed")  # a delivery says "look again"
    assert card_fields(s)["Checks"] == "⏳ 1 pending · ✅ 2 passed"
    assert await s.h.failed_runs() == []


def _run_url(s: Scene, name: str) -> str:
    run = max((r for r in s.fake.state.check_runs.values() if r.name == name), key=lambda r: r.id)
    return f"https://github.com/{s.repo.full_name}/runs/{run.id}"


async def test_prbots_own_comment_webhook_is_not_posted_back(make_scene: Make) -> None:
    s: Scene = await make_scene()
    s.fake.hooks.echo_comments = True
    async with s.listening() as url:
        if s.mode == "app":
            hook = s.fake.set_app_hook(s.app, url, "scenario-webhook-secret")
        else:
            hook = s.fake.add_repo_hook(s.repo, url, "scenario-webhook-secret")
        await s.h.play("edits", "01-opened", "12-merged")
        await s.fake.settle()  # GitHub's webhook for prbot's own backlink comment
        await s.h.settle()
    (echo,) = [d for d in s.fake.deliveries_of(hook) if d.event == "issue_comment"]
    assert echo.status_code == 202 and MARKER in echo.payload["comment"]["body"]
    (run,) = await list_runs(s.h.store, 50, function_id="pr-comments")
    detail = await get_run(s.h.store, run.run_id)
    assert run.status == "completed" and detail is not None
    assert not {"thread", "message"} & set(detail.steps)  # stopped before finding the thread
    thread = s.h.thread()
    assert thread.archived  # not reopened by a post
    assert not any(MARKER in text_of(m) or "Discussed" in text_of(m) for m in s.h.messages(thread))
    assert await s.h.failed_runs() == []


async def test_a_refused_backlink_is_a_warning_and_tried_again_later(make_scene: Make) -> None:
    s: Scene = await make_scene()
    s.fake.faults.fail_next("POST", COMMENTS, "error", status=403)
    await s.h.play("edits", "01-opened")
    assert s.backlinks() == [] and await s.h.failed_runs() == []  # no alert per PR event
    assert s.h.world.fake.messages_in(s.h.world.alerts.id) == []
    await s.h.play("edits", "08-labeled")  # the next change of the PR tries again
    assert len(s.backlinks()) == 1


async def test_a_card_github_refuses_is_made_from_the_deliveries(make_scene: Make) -> None:
    s: Scene = await make_scene()
    s.fake.faults.fail_next("GET", "/repos/*/pulls/*", "error", status=404, times=5)
    await s.h.play("ci", "01-opened", "04-check-run-lint-failed")
    assert "Failing: [lint]" in card_fields(s)["Checks"]  # from the check run delivery
    assert await s.h.failed_runs() == []
