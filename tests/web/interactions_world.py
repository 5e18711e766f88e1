"""A world for slash-command tests: prbot's app served over HTTP, a worker, fake Discord and GitHub.

Discord's side (`tests.fakes.discord_interactions`) signs and POSTs interactions to the real app
on a loopback port; the runtime runs on the real Redis with a manual clock that `settle` moves
together with the fake Discord's and the fake GitHub's clocks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bot.discord.rest import DiscordRestAdapter
from bot.github.api import GitHubAdapter
from bot.ops.fixtures import load_delivery, scenarios_dir
from bot.ops.serve import http_server
from bot.prs.deps import Deps
from bot.runtime import ManualClock, Runtime, Store, Worker
from bot.settings import load_settings
from bot.web.app import create_app
from bot.web.interactions import mount_interactions
from functions import build_functions
from tests.discord.world import FakeTimeSleeps, World
from tests.fakes.discord_app import Interaction
from tests.fakes.discord_interactions import (
    MANAGE_GUILD,
    MEMBER_PERMISSIONS,
    InteractionSender,
    Member,
)
from tests.fakes.github_device import FakeDeviceFlow
from tests.loopback import free_port, wait_until_up

SECRET = "interactions-webhook-secret"
ROUNDS = 400


@dataclass
class Prbot:
    """prbot serving on a port, its runtime and store, and Discord's interaction sender."""

    world: World
    store: Store
    runtime: Runtime
    clock: ManualClock
    base: str
    sender: InteractionSender
    github: FakeDeviceFlow | None
    alice: Member
    admin: Member

    async def webhook(self, scenario: str, stem: str) -> None:
        """POST a recorded GitHub delivery to prbot, signed."""
        delivery = load_delivery(scenarios_dir() / scenario / f"{stem}.json")
        async with httpx.AsyncClient(base_url=self.base) as client:
            response = await client.post(
                "/webhooks/github", content=delivery.body, headers=delivery.signed_headers(SECRET)
            )
        assert response.status_code == 202, response.text

    async def command(
        self,
        command: str,
        sub: str,
        options: dict[str, Any] | None = None,
        *,
        member: Member | None = None,
        channel_id: int | None = None,
    ) -> Interaction:
        """Use `/command sub` as `member` (alice) in `channel_id` (the text channel)."""
        payload = self.sender.slash(
            command,
            sub,
            options,
            member=member or self.alice,
            guild_id=self.world.guild.id,
            channel_id=channel_id or self.world.text.id,
        )
        interaction, response = await self.sender.send(payload)
        assert response.status_code == 200, response.text
        return interaction

    async def settle(self) -> None:
        """Run every due run, moving all clocks to the next due one, until nothing is left."""
        worker = Worker(self.runtime, concurrency=8)
        for _ in range(ROUNDS):
            await worker.run_until_idle()
            due = await self.next_due_ms()
            if due is None:
                return
            wait_s = max(0.0, (due - self.clock.now_ms()) / 1000) + 0.001
            self.advance(wait_s)
        raise AssertionError("runs still pending after many rounds")

    async def next_due_ms(self) -> int | None:
        """Return when the next run is due: a queued key, or a timer (a durable sleep)."""
        keys, redis = self.store.keys, self.store.redis
        heads = [
            await redis.zrange(key, 0, 0, withscores=True) for key in (keys.sched, keys.timers)
        ]
        dues = [int(head[0][1]) for head in heads if head]
        return min(dues) if dues else None

    def advance(self, seconds: float) -> None:
        """Move the runtime's, Discord's and GitHub's clocks together."""
        self.clock.advance(seconds)
        self.world.fake.advance(seconds)
        if self.github is not None:
            self.github.clock.advance(seconds)

    def thread_id(self) -> int:
        """Return the one PR thread made in the text channel."""
        (thread,) = self.world.fake.threads_in(self.world.text.id)
        return thread.id


PrbotFactory = Callable[..., AbstractAsyncContextManager[Prbot]]


@pytest.fixture
def serve_prbot(world: World, scenario_store: Store, fast_sleeps: FakeTimeSleeps) -> PrbotFactory:
    """Return `serve(github=None, door=None, **env)`: prbot on a free port, until it ends.

    `door` is prbot's GitHub door (API access), `github` the fake device flow for `/pr link`.
    """

    @asynccontextmanager
    async def serve(
        github: FakeDeviceFlow | None = None, door: GitHubAdapter | None = None, **env: str
    ) -> AsyncIterator[Prbot]:
        fake = world.fake
        values = {
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "DISCORD_TOKEN": fake.token,
            "DISCORD_API_BASE": fake.api_base,
            "DISCORD_CHANNEL_ID": str(world.text.id),
            "DISCORD_PUBLIC_KEY": fake.state.app.verify_key,
        }
        if github is not None:
            values |= {"GITHUB_API_BASE": github.api_base, "GITHUB_APP_CLIENT_ID": github.client_id}
        settings = load_settings(values | env)
        adapter = await DiscordRestAdapter.login(fake.token, fake.api_base, sleep=fast_sleeps.sleep)
        clock = ManualClock()
        functions = build_functions(Deps.build(settings, scenario_store, adapter, door))
        runtime = Runtime(scenario_store, functions, clock=clock)
        app = create_app(settings, runtime)
        assert settings.discord_public_key is not None
        mount_interactions(app, settings.discord_public_key, runtime)
        port = free_port()
        server = http_server(app, "127.0.0.1", port)
        task = asyncio.create_task(server.serve())
        base = f"http://127.0.0.1:{port}"
        try:
            await wait_until_up(base)
            sender = InteractionSender(fake.state.app, base + "/discord/interactions")
            alice = Member(fake.state.ids.next(), "alice", MEMBER_PERMISSIONS)
            admin = Member(fake.state.ids.next(), "root", MEMBER_PERMISSIONS | MANAGE_GUILD)
            yield Prbot(world, scenario_store, runtime, clock, base, sender, github, alice, admin)
        finally:
            server.should_exit = True
            await task
            await adapter.close()

    return serve
