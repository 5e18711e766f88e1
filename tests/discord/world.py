"""A fake Discord world for adapter and scenario tests: the server, seeded channels, an adapter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import discord
import discord.http
import pytest

from bot.discord.adapter import DiscordRestAdapter
from tests.fakes.discord_models import Channel, Guild
from tests.fakes.discord_server import FakeDiscord

FORUM_TAGS = ["open", "draft", "approved", "changes requested", "merged", "closed"]


@dataclass
class World:
    """A started fake: a guild, a text channel, a forum with the status tags, alerts."""

    fake: FakeDiscord
    guild: Guild
    text: Channel
    forum: Channel
    alerts: Channel


class FakeTimeSleeps:
    """`asyncio` as discord.http sees it, its sleeps (5xx retries, 429 and bucket waits) taken
    on the fake Discord's clock: the fake's time moves on at once, no wall-clock wait."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.fake: FakeDiscord | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def sleep(self, delay: float, result: Any = None) -> Any:
        """Record `delay`, move the fake clock by it, and yield to the loop."""
        self.delays.append(delay)
        if self.fake is not None and delay > 0:
            self.fake.advance(delay)
        return await asyncio.sleep(0, result)


@pytest.fixture
def fast_sleeps(monkeypatch: pytest.MonkeyPatch) -> FakeTimeSleeps:
    """Make discord.py's in-process waits pass on the fake's clock."""
    sleeps = FakeTimeSleeps()
    monkeypatch.setattr(discord.http, "asyncio", sleeps)
    return sleeps


@pytest.fixture
def keep_route_base() -> Iterator[None]:
    """Restore discord.py's API base after a test pointed it at the fake."""
    base = discord.http.Route.BASE
    yield
    discord.http.Route.BASE = base


@pytest.fixture
async def world(fast_sleeps: FakeTimeSleeps, keep_route_base: None) -> AsyncIterator[World]:
    """Yield a started fake Discord with a guild, text, forum and alert channels."""
    async with FakeDiscord() as fake:
        fast_sleeps.fake = fake
        guild = fake.add_guild()
        text = fake.add_text_channel(guild.id)
        forum = fake.add_forum_channel(guild.id, tags=FORUM_TAGS)
        alerts = fake.add_text_channel(guild.id, "alerts")
        yield World(fake, guild, text, forum, alerts)


@pytest.fixture
async def adapter(world: World) -> AsyncIterator[DiscordRestAdapter]:
    """Yield the REST adapter logged in to the fake."""
    rest = await DiscordRestAdapter.login(world.fake.token, api_base=world.fake.api_base)
    yield rest
    await rest.close()
