"""`/pr link`: a member proves their GitHub login with the device flow, polled by a durable run."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from bot.prs.users import UserMap
from bot.runtime import Worker
from bot.runtime.functions import run_id_for
from tests.discord.world import fast_sleeps, world
from tests.fakes.discord_app import Interaction
from tests.fakes.github_device import FakeDeviceFlow
from tests.functions.harness import scenario_store
from tests.web.interactions_world import Prbot, PrbotFactory, serve_prbot

__all__ = ["fast_sleeps", "scenario_store", "serve_prbot", "world"]


@pytest.fixture
async def github() -> AsyncIterator[FakeDeviceFlow]:
    """Yield the fake of GitHub's device flow."""
    async with FakeDeviceFlow(client_id="Iv1.prbot-tests") as fake:
        yield fake


async def code_shown(prbot: Prbot, asked: Interaction) -> str:
    """Run what is due now (no clock moves) and return the user code the answer shows."""
    await Worker(prbot.runtime, concurrency=4).run_until_idle()
    found = re.search(r"enter the code \*\*([A-F0-9]{4}-[A-F0-9]{4})\*\*", asked.content or "")
    assert found is not None, asked.content
    return found.group(1)


async def test_without_a_client_id_only_admins_link(serve_prbot: PrbotFactory) -> None:
    async with serve_prbot() as prbot:
        asked = await prbot.command("pr", "link", {"github_login": "octocat"})
        await prbot.settle()
    assert (
        asked.content is not None and "Ask an admin to link you with `/prbot link`" in asked.content
    )


async def test_a_proven_login_is_linked(serve_prbot: PrbotFactory, github: FakeDeviceFlow) -> None:
    async with serve_prbot(github) as prbot:
        asked = await prbot.command("pr", "link", {"github_login": "octocat"})
        user_code = await code_shown(prbot, asked)
        assert f"<{github.base_url}/login/device>" in (asked.content or "") and asked.ephemeral
        prbot.advance(6)  # a poll (pending) while the member types the code
        await Worker(prbot.runtime, concurrency=4).run_until_idle()
        github.approve(user_code, "OctoCat")
        await prbot.settle()
        users = UserMap(prbot.store, {})
        assert await users.discord_id("octocat") == prbot.alice.id
        (link,) = await users.links()
        run_id = run_id_for(f"discord-interaction-{asked.id}", "discord-link")
        _, steps, _ = await prbot.store.reads.run(run_id)
    assert link.source == "github"
    assert asked.content == "Linked you to GitHub login **OctoCat**."
    assert "slow_down" not in github.requests.errors()  # every poll waited the interval
    (grant,) = github.grants.values()
    assert grant.polls == 2 and all(grant.device_code not in v for v in steps.values())
    assert not any("ghu_" in v for v in steps.values())  # nor the token, anywhere in a step


async def test_approving_as_someone_else_links_nothing(
    serve_prbot: PrbotFactory, github: FakeDeviceFlow
) -> None:
    async with serve_prbot(github) as prbot:
        asked = await prbot.command("pr", "link", {"github_login": "octocat"})
        github.approve(await code_shown(prbot, asked), "mallory")
        await prbot.settle()
        assert await UserMap(prbot.store, {}).links() == []
    assert (
        asked.content == "You approved on GitHub as **mallory**, not **octocat**: nothing linked."
    )


async def test_declining_on_github_links_nothing(
    serve_prbot: PrbotFactory, github: FakeDeviceFlow
) -> None:
    async with serve_prbot(github) as prbot:
        asked = await prbot.command("pr", "link", {"github_login": "octocat"})
        github.deny(await code_shown(prbot, asked))
        await prbot.settle()
        assert await UserMap(prbot.store, {}).links() == []
    assert asked.content == "You declined on GitHub: nothing linked."


async def test_a_code_never_entered_ends_quietly_after_it_expires(
    serve_prbot: PrbotFactory, github: FakeDeviceFlow
) -> None:
    async with serve_prbot(github) as prbot:
        asked = await prbot.command("pr", "link", {"github_login": "octocat"})
        await code_shown(prbot, asked)
        await prbot.settle()  # polls every 5 s for 15 minutes; the token dies with the code
        run_id = run_id_for(f"discord-interaction-{asked.id}", "discord-link")
        state, _, _ = await prbot.store.reads.run(run_id)
    assert state["status"] == "completed"  # no answer is possible any more: not a failure
    assert len(asked.edits) == 1 and "expired_token" in github.requests.errors()
    assert "slow_down" not in github.requests.errors()


async def test_a_login_that_cannot_be_one_is_refused(serve_prbot: PrbotFactory) -> None:
    async with serve_prbot() as prbot:
        asked = await prbot.command("pr", "link", {"github_login": "-not a login"})
        await prbot.settle()
    assert asked.content == "`-not a login` is not a GitHub login."
