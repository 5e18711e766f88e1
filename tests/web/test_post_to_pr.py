"""`Post to PR`: one message mirrored on request, through the same code as automatic sync."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.prs.mirror import marker
from bot.runtime import Store
from tests.discord.world import adapter, fast_sleeps, world
from tests.fakes.github_models import IssueComment
from tests.functions.harness import scenario_store
from tests.github.world import Door, door_world
from tests.web.interactions_world import Prbot, PrbotFactory, serve_prbot

__all__ = ["adapter", "fast_sleeps", "scenario_store", "serve_prbot", "world"]

MESSAGE_ID = 1234


@pytest.fixture
async def door(scenario_store: Store) -> AsyncIterator[Door]:
    """Yield a fake GitHub holding the fixtures' PR, octo-org/hello-world#42."""
    async with door_world(scenario_store) as found:
        repo = found.fake.add_repo("octo-org/hello-world")
        found.fake.add_pull(repo, number=42, title="Add French and German greetings")
        yield found


async def post_to_pr(prbot: Prbot, content: str, bot: bool = False) -> Any:
    """Use `Post to PR` on a message of alice's in the PR's thread; return the interaction."""
    thread_id = prbot.thread_id()
    target = {
        "id": str(MESSAGE_ID + bot),
        "channel_id": str(thread_id),
        "content": content,
        "author": {"id": str(prbot.alice.id), "username": "alice", "bot": bot},
        "timestamp": "2024-05-01T10:00:00+00:00",
    }
    payload = prbot.sender.message_command(
        "Post to PR", target, member=prbot.alice, guild_id=prbot.world.guild.id,
        channel_id=thread_id,
    )  # fmt: skip
    asked, _ = await prbot.sender.send(payload)
    await prbot.settle()
    return asked


def comments(door: Door) -> list[IssueComment]:
    """Return the comments on octo-org/hello-world#42."""
    repo = next(r for r in door.fake.state.repos.values() if r.full_name.endswith("hello-world"))
    return door.fake.comments_on(repo, 42)


async def test_post_to_pr_mirrors_the_message_once(serve_prbot: PrbotFactory, door: Door) -> None:
    env = door.token_env(SYNC_DISCORD_REPLIES="false")
    async with door.open(env) as github, serve_prbot(door=github, **env) as prbot:
        await prbot.webhook("pr-lifecycle", "01-opened")
        await prbot.settle()
        asked = await post_to_pr(prbot, "LGTM, ship it @everyone")
        again = await post_to_pr(prbot, "LGTM, ship it @everyone")  # used twice
        by_bot = await post_to_pr(prbot, "beep", bot=True)
    # The other comment on the PR is prbot's backlink to the thread (GITHUB_BACKLINK).
    (comment,) = [c for c in comments(door) if "prbot:discord:" in c.body]
    assert comment.body.startswith("**alice** wrote [on Discord](https://discord.com/channels/")
    assert "LGTM, ship it @\u200beveryone" in comment.body
    assert comment.body.endswith(marker(MESSAGE_ID))
    assert asked.content == f"Posted to octo-org/hello-world#42 (GitHub comment {comment.id})."
    assert again.content == asked.content
    assert by_bot.content == "That message is not posted to GitHub: written by a bot."
