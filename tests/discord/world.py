"""A fake Discord world for adapter and scenario tests: the server, seeded channels, an adapter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.discord.rest import DiscordRestAdapter
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
    """The sleep given to the adapter: discord.py's waits (5xx retries, 429 and bucket waits)
    taken on the fake Discord's clock, which moves on at once, with no wall-clock wait."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self.fake: FakeDiscord | None = None

    async def sleep(self, delay: float) -> None:
        """Record `delay`, move the fake clock by it, and yield to the loop."""
        self.delays.append(delay)
        if self.fake is not None and delay > 0:
            self.fake.advance(delay)
        await asyncio.sleep(0)


@pytest.fixture
def fast_sleeps() -> FakeTimeSleeps:
    """Return the fake-clock sleep adapters under test are given."""
    return FakeTimeSleeps()


@pytest.fixture
async def world(fast_sleeps: FakeTimeSleeps) -> AsyncIterator[World]:
    """Yield a started fake Discord with a guild, text, forum and alert channels."""
    async with FakeDiscord() as fake:
        fast_sleeps.fake = fake
        guild = fake.add_guild()
        text = fake.add_text_channel(guild.id)
        forum = fake.add_forum_channel(guild.id, tags=FORUM_TAGS)
        alerts = fake.add_text_channel(guild.id, "alerts")
        yield World(fake, guild, text, forum, alerts)


@pytest.fixture
async def adapter(world: World, fast_sleeps: FakeTimeSleeps) -> AsyncIterator[DiscordRestAdapter]:
    """Yield the REST adapter logged in to the fake, waiting on the fake's clock."""
    rest = await DiscordRestAdapter.login(
        world.fake.token, world.fake.api_base, sleep=fast_sleeps.sleep
    )
    yield rest
    await rest.close()
