"""Slash commands over real HTTP: Ed25519 checked, deferred at once, answered by a worker's run."""

from __future__ import annotations

import json

import pytest

from bot.prs.users import UserMap
from bot.runtime.functions import run_id_for
from tests.discord.world import fast_sleeps, world
from tests.fakes.discord_interactions import Signature
from tests.functions.harness import scenario_store
from tests.web.interactions_world import PrbotFactory, serve_prbot

__all__ = ["fast_sleeps", "scenario_store", "serve_prbot", "world"]

DEFERRED_EPHEMERAL = {"type": 5, "data": {"flags": 64}}


@pytest.mark.parametrize("signature", ["missing", "bad", "other-key"])
async def test_a_missing_or_wrong_signature_is_refused_401(
    serve_prbot: PrbotFactory, signature: Signature
) -> None:
    async with serve_prbot() as prbot:
        payload = prbot.sender.slash(
            "pr", "status", member=prbot.alice, guild_id=prbot.world.guild.id, channel_id=1
        )
        _, response = await prbot.sender.send(payload, signature)
        assert response.status_code == 401
        _, ping = await prbot.sender.send(prbot.sender.ping(), signature)
        assert ping.status_code == 401
        assert await prbot.store.reads.event_page(0, 10) == []  # nothing recorded


async def test_ping_is_answered_pong(serve_prbot: PrbotFactory) -> None:
    async with serve_prbot() as prbot:
        _, response = await prbot.sender.send(prbot.sender.ping())
    assert (response.status_code, response.json()) == (200, {"type": 1})


async def test_pr_status_is_deferred_then_answered_from_the_store(
    serve_prbot: PrbotFactory,
) -> None:
    async with serve_prbot() as prbot:
        await prbot.webhook("pr-lifecycle", "01-opened")
        await prbot.webhook("pr-lifecycle", "08-review-approved")
        await prbot.settle()
        asked = await prbot.command("pr", "status", channel_id=prbot.thread_id())
        assert asked.response == DEFERRED_EPHEMERAL and asked.edits == []  # no work in the request
        await prbot.settle()
    (edit,) = asked.edits
    assert edit["allowed_mentions"] == {"parse": []}  # pings nobody
    content = asked.content or ""
    assert "octo-org/hello-world#42" in content and "hello-world/pull/42" in content
    assert "State: 🟢 open" in content and "Reviewers: hubot ✅ approved" in content
    assert "Checks: none failing that prbot has seen" in content
    assert asked.ephemeral  # only the member who asked sees it


async def test_pr_status_outside_a_pr_thread_says_so(serve_prbot: PrbotFactory) -> None:
    async with serve_prbot() as prbot:
        asked = await prbot.command("pr", "status")  # the text channel itself
        await prbot.settle()
    assert "not the thread of a pull request" in (asked.content or "")


async def test_an_unknown_command_is_answered_at_once(serve_prbot: PrbotFactory) -> None:
    async with serve_prbot() as prbot:
        asked = await prbot.command("pr", "merge")
    assert asked.response is not None and asked.response["type"] == 4
    assert asked.ephemeral and "commands sync" in (asked.content or "")


async def test_admin_commands_refuse_members_without_manage_server(
    serve_prbot: PrbotFactory,
) -> None:
    async with serve_prbot() as prbot:
        failed = await prbot.command("prbot", "failed")
        link = await prbot.command(
            "prbot", "link", {"member": str(prbot.alice.id), "github_login": "octocat"}
        )
        await prbot.webhook("pr-lifecycle", "01-opened")
        replay = await prbot.command("prbot", "replay", {"delivery_id": "x"})
        await prbot.settle()
        links = await UserMap(prbot.store, {}).links()
    for asked in (failed, link, replay):
        assert asked.content == "Only members who may manage this server can use `/prbot`."
    assert links == []


async def test_an_admin_links_a_member_and_lists_failed_runs(serve_prbot: PrbotFactory) -> None:
    async with serve_prbot() as prbot:
        link = await prbot.command(
            "prbot",
            "link",
            {"member": str(prbot.alice.id), "github_login": "OctoCat"},
            member=prbot.admin,
        )
        failed = await prbot.command("prbot", "failed", member=prbot.admin)
        await prbot.settle()
        users = UserMap(prbot.store, {})
        assert await users.discord_id("octocat") == prbot.alice.id
        (found,) = await users.links()
    assert (found.login, found.source) == ("octocat", f"admin:{prbot.admin.id}")
    assert link.content == f"Linked <@{prbot.alice.id}> to GitHub login **OctoCat**."
    assert failed.content == "No failed runs. 🎉"


async def test_an_admin_replays_a_recorded_delivery_once(serve_prbot: PrbotFactory) -> None:
    delivery_id = "fb87b7b1-0b88-11ef-b4d6-a1402a001cba"  # pr-lifecycle/01-opened
    async with serve_prbot() as prbot:
        await prbot.webhook("pr-lifecycle", "01-opened")
        await prbot.settle()
        asked = await prbot.command(
            "prbot", "replay", {"delivery_id": delivery_id}, member=prbot.admin
        )
        await prbot.settle()
        copy = f"{delivery_id}.replay-{asked.id}"
        raw, _ = await prbot.store.reads.event(copy)
        run = await prbot.store.reads.run(run_id_for(copy, "pr-thread-lifecycle"))
        missing = await prbot.command(
            "prbot", "replay", {"delivery_id": "nope"}, member=prbot.admin
        )
        await prbot.settle()
        threads = prbot.world.fake.threads_in(prbot.world.text.id)
    assert raw is not None and json.loads(raw)["event"]["name"] == "github/pull_request.opened"
    assert run[0]["status"] == "completed"
    assert len(threads) == 1  # the replay found the PR's thread: no second one
    assert asked.content is not None and f"as `{copy}`" in asked.content
    assert missing.content == "No recorded delivery `nope` (unknown or expired)."


async def test_unlink_forgets_a_members_login(serve_prbot: PrbotFactory) -> None:
    async with serve_prbot(GITHUB_DISCORD_USERS="") as prbot:
        users = UserMap(prbot.store, {})
        await users.link("monalisa", prbot.alice.id, "github")
        unlinked = await prbot.command("pr", "unlink")
        again = await prbot.command("pr", "unlink")
        await prbot.settle()
        assert await users.discord_id("monalisa") is None
    assert unlinked.content == "Unlinked GitHub login **monalisa**."
    assert again.content == "No GitHub login is linked to you."


async def test_post_to_pr_says_it_needs_github_access(serve_prbot: PrbotFactory) -> None:
    async with serve_prbot() as prbot:
        await prbot.webhook("pr-lifecycle", "01-opened")
        await prbot.settle()
        thread_id = prbot.thread_id()
        target = {
            "id": "1234",
            "channel_id": str(thread_id),
            "content": "LGTM, ship it",
            "author": {"id": str(prbot.alice.id), "username": "alice"},
            "timestamp": "2024-05-01T10:00:00+00:00",
        }
        payload = prbot.sender.message_command(
            "Post to PR",
            target,
            member=prbot.alice,
            guild_id=prbot.world.guild.id,
            channel_id=thread_id,
        )
        asked, _ = await prbot.sender.send(payload)
        await prbot.settle()
    assert asked.response == DEFERRED_EPHEMERAL
    assert asked.content is not None and "until prbot has GitHub API access" in asked.content


async def test_an_answer_after_the_tokens_15_minutes_fails_the_run_visibly(
    serve_prbot: PrbotFactory,
) -> None:
    async with serve_prbot() as prbot:
        asked = await prbot.command("pr", "status")
        prbot.world.fake.advance(15 * 60 + 1)  # the worker was down for a while
        await prbot.settle()
        failed = await prbot.store.reads.run_page(0, 10, failed=True)
    assert asked.edits == []
    assert failed == [run_id_for(f"discord-interaction-{asked.id}", "discord-commands")]


async def test_failed_runs_are_listed_with_the_kind_of_error_only(
    serve_prbot: PrbotFactory,
) -> None:
    async with serve_prbot() as prbot:
        late = await prbot.command("pr", "status")
        prbot.world.fake.advance(15 * 60 + 1)
        await prbot.settle()  # its answer came too late: a failed run
        failed = await prbot.command("prbot", "failed", member=prbot.admin)
        await prbot.settle()
    run_id = run_id_for(f"discord-interaction-{late.id}", "discord-commands")
    assert failed.content is not None and f"`{run_id}` discord-commands" in failed.content
    assert ", DiscordApiError, event" in failed.content
    assert "Unknown Webhook" not in failed.content  # the message itself stays in prbot runs
