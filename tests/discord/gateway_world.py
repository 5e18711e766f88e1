"""A world for the gateway door's tests: the fake REST API and gateway, and a recording inbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest

from bot.discord.gateway import DeletedMessage, Gateway, ReceivedMessage
from tests.fakes.discord_gateway import FakeGateway
from tests.fakes.discord_models import Channel, Guild
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.discord_threads import create_thread
from tests.fakes.gateway_world import eventually

TIMEOUT_S = 5.0


@dataclass
class Fakes:
    """The fake REST API and gateway, sharing one world: a guild, a text channel, a thread."""

    rest: FakeDiscord
    gw: FakeGateway
    guild: Guild
    channel: Channel
    thread_id: int


@dataclass
class Inbox:
    """What the door handed on, in order, and the sleeps it asked for."""

    created: list[ReceivedMessage] = field(default_factory=list)
    updated: list[ReceivedMessage] = field(default_factory=list)
    deleted: list[DeletedMessage] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    async def on_created(self, message: ReceivedMessage) -> None:
        self.created.append(message)
        self.order.append(f"created {message.content}")

    async def on_updated(self, message: ReceivedMessage) -> None:
        self.updated.append(message)
        self.order.append(f"updated {message.content}")

    async def on_deleted(self, message: DeletedMessage) -> None:
        self.deleted.append(message)
        self.order.append(f"deleted {message.id}")

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@pytest.fixture
async def fakes() -> AsyncIterator[Fakes]:
    """Yield the fakes with a seeded guild, a text channel and a thread in it."""
    async with (
        FakeDiscord() as rest,
        FakeGateway(state=rest.state, heartbeat_interval_ms=250) as gw,
    ):
        guild = rest.add_guild()
        channel = rest.add_text_channel(guild.id)
        thread = create_thread(rest.state, channel.id, {"name": "PR #1", "type": 11})
        yield Fakes(rest, gw, guild, channel, int(thread["id"]))


def door(
    fakes: Fakes,
    inbox: Inbox,
    on_created: Callable[[ReceivedMessage], Awaitable[None]] | None = None,
) -> Gateway:
    """Return a gateway door pointed at the fakes, handing messages to `inbox`."""
    return Gateway(
        fakes.rest.token,
        api_base=fakes.rest.api_base,
        gateway_url=fakes.gw.url,
        on_created=on_created or inbox.on_created,
        on_updated=inbox.on_updated,
        on_deleted=inbox.on_deleted,
        sleep=inbox.sleep,
        guild_ready_timeout_s=0.05,
    )


@asynccontextmanager
async def connected(fakes: Fakes, gateway: Gateway) -> AsyncIterator[Gateway]:
    """Run a door until ready; close it and check `run` ended cleanly afterwards."""
    task = asyncio.create_task(gateway.run())
    ready = asyncio.create_task(gateway.wait_ready())
    await asyncio.wait({task, ready}, timeout=TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        ready.cancel()
        await gateway.close()
        task.result()  # the door's own error, if it failed
        raise AssertionError("the gateway was not ready in time")
    try:
        yield gateway
    finally:
        await gateway.close()
        await asyncio.wait_for(task, TIMEOUT_S)


async def until(check: Callable[[], bool]) -> None:
    """Wait for `check` with the test timeout."""
    await eventually(check, TIMEOUT_S)
