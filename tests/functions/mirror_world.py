"""A world for the mirror: the gateway's inbox, the runtime on real Redis, a fake GitHub."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest

from bot.discord.dryrun import DryRunAdapter
from bot.discord.gateway import DeletedMessage, ReceivedMessage
from bot.github.api import GitHubAdapter
from bot.prs.deps import Deps
from bot.prs.inbox import ThreadInbox
from bot.prs.mapping import ThreadRecord, ThreadStore
from bot.runtime import ManualClock, Runtime, Store, Worker
from bot.settings import load_settings
from functions import build_functions
from tests.fakes.github_models import IssueComment
from tests.github.world import Door, door_world

PR = "acme/widgets#1"
THREAD_ID = 900000000000000001
GUILD_ID = 800000000000000001
BOT_ID = 700000000000000001
HUBOT = 500000000000000001
ROUNDS = 200


@dataclass
class MirrorWorld:
    """Messages in a PR thread go through the gateway's inbox; runs mirror them to fake GitHub."""

    door: Door
    github: GitHubAdapter
    store: Store
    runtime: Runtime
    clock: ManualClock
    inbox: ThreadInbox
    next_id: int = 1000
    sent: list[ReceivedMessage] = field(default_factory=list)

    def message(self, content: str = "Looks good to me", **changes: object) -> ReceivedMessage:
        """Return a new message by Alice in the PR's thread."""
        self.next_id += 1
        made = ReceivedMessage(
            id=self.next_id,
            channel_id=THREAD_ID,
            guild_id=GUILD_ID,
            author_id=600000000000000001,
            author_name="Alice",
            author_bot=False,
            webhook_id=None,
            system=False,
            content=content,
            attachment_urls=(),
            reference_id=None,
            mention_ids=(),
            edited_at=None,
        )
        return replace(made, **changes)  # type: ignore[arg-type]

    async def write(self, message: ReceivedMessage) -> ReceivedMessage:
        """Have the gateway report a new message."""
        await self.inbox.on_created(message)
        return message

    async def edit(self, message: ReceivedMessage, content: str) -> ReceivedMessage:
        """Have the gateway report an edit of `message`."""
        edited = replace(message, content=content, edited_at=datetime.now(UTC))
        await self.inbox.on_updated(edited)
        return edited

    async def delete(self, message: ReceivedMessage) -> None:
        """Have the gateway report `message` deleted."""
        await self.inbox.on_deleted(DeletedMessage(message.id, THREAD_ID, GUILD_ID))

    async def settle(self) -> None:
        """Run every due run, moving the runtime's clock to the next due one."""
        worker = Worker(self.runtime, concurrency=4)
        for _ in range(ROUNDS):
            await worker.run_until_idle()
            due = await self.store.redis.zrange(self.store.keys.sched, 0, 0, withscores=True)
            if not due:
                return
            self.clock.advance(max(0.0, (float(due[0][1]) - self.clock.now_ms()) / 1000) + 0.001)
        raise AssertionError("runs still pending after many rounds")

    def runtime_discord(self) -> DryRunAdapter:
        """Return a Discord stand-in (the mirror never calls Discord)."""
        return DryRunAdapter(echo=False)

    def comments(self) -> list[IssueComment]:
        """Return the PR's conversation comments on the fake GitHub, oldest first."""
        return self.door.fake.comments_on(self.door.world.repo, 1)


@pytest.fixture
async def mirror_world(scenario_store: Store) -> AsyncIterator[MirrorWorld]:
    """Yield the world with a token (the token's user is `octocat`) and sync on by default."""
    async with door_world(scenario_store) as door:
        env = door.token_env(GITHUB_DISCORD_USERS=f"hubot={HUBOT}")
        github = door.open(env)
        settings = load_settings(env)
        deps = Deps.build(settings, scenario_store, DryRunAdapter(echo=False), github)
        clock = ManualClock()
        runtime = Runtime(scenario_store, build_functions(deps), clock=clock)
        await ThreadStore(scenario_store).put(PR, ThreadRecord(thread_id=THREAD_ID, channel_id=1))

        async def no_sleep(_: float) -> None:
            return None

        inbox = ThreadInbox(scenario_store, runtime.send, no_sleep, lambda: BOT_ID)
        try:
            yield MirrorWorld(door, github, scenario_store, runtime, clock, inbox)
        finally:
            await github.close()
