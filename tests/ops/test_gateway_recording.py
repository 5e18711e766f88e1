"""The gateway's recording when Redis is away: messages wait in order; none is lost silently."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from bot.ops.gateway import GatewayRole
from bot.prs.inbox import RECORD_ATTEMPTS
from bot.prs.mapping import ThreadRecord, ThreadStore
from bot.runtime import Runtime, Store
from tests.fakes.gateway_world import eventually
from tests.loopback import Relay
from tests.ops.test_gateway_role import PR, Fakes, fakes, gateway_settings, mirror, names_of

__all__ = ["fakes"]


@pytest.fixture
async def relayed(real_store: Store, redis_url: str) -> AsyncIterator[tuple[Relay, Store]]:
    """Yield a relay in front of the test Redis and a store that reaches Redis through it."""
    parts = urlsplit(redis_url)
    async with Relay(parts.port or 6379) as relay:
        store = Store.connect(f"redis://127.0.0.1:{relay.port}{parts.path}", prefix="test")
        yield relay, store
        await store.close()


async def start(role: GatewayRole) -> asyncio.Task[bool]:
    """Run the gateway until it is ready."""
    task = asyncio.create_task(role.run())
    await asyncio.wait_for(role.gateway.wait_ready(), 5)
    return task


async def test_messages_wait_for_the_store_and_keep_their_order(
    fakes: Fakes, relayed: tuple[Relay, Store], redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    relay, store = relayed
    await ThreadStore(store).put(
        PR, ThreadRecord(thread_id=fakes.pr_thread, channel_id=fakes.channel.id)
    )
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:
            relay.restore()  # Redis is back after the third wait
        await asyncio.sleep(0)

    settings = gateway_settings(fakes, redis_url)
    role = GatewayRole(
        settings, Runtime(store, [mirror]), required=True, sleep=sleep, guild_ready_timeout_s=0.05
    )
    task = await start(role)
    relay.cut()
    first = fakes.gw.message_create(fakes.pr_thread, "while Redis is away")
    second = fakes.gw.message_create(fakes.pr_thread, "and another")
    await eventually(lambda: role.inbox.recorded == 2, 20)
    await role.close()
    assert await asyncio.wait_for(task, 5)
    assert sleeps == [0.5, 1.0, 2.0]
    assert [i for _, i in await names_of(store)] == [
        f"discord-msg-{first['id']}-c",
        f"discord-msg-{second['id']}-c",
    ]
    assert f"recording Discord message {first['id']} failed" in caplog.text


async def test_a_message_the_store_never_took_is_logged_as_lost(
    fakes: Fakes, relayed: tuple[Relay, Store], redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    relay, store = relayed
    await ThreadStore(store).put(
        PR, ThreadRecord(thread_id=fakes.pr_thread, channel_id=fakes.channel.id)
    )
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await asyncio.sleep(0)

    settings = gateway_settings(fakes, redis_url)
    role = GatewayRole(
        settings, Runtime(store, [mirror]), required=True, sleep=sleep, guild_ready_timeout_s=0.05
    )
    task = await start(role)
    relay.cut()
    lost = fakes.gw.message_create(fakes.pr_thread, "Redis stays away")
    await eventually(lambda: "LOST Discord message" in caplog.text, 60)
    relay.restore()
    kept = fakes.gw.message_create(fakes.pr_thread, "Redis is back")
    await eventually(lambda: role.inbox.recorded == 1, 10)
    await role.close()
    assert await asyncio.wait_for(task, 5)
    assert len(sleeps) == RECORD_ATTEMPTS - 1 and max(sleeps) == 30.0
    assert f"LOST Discord message {lost['id']} in thread {fakes.pr_thread}" in caplog.text
    assert [i for _, i in await names_of(store)] == [f"discord-msg-{kept['id']}-c"]
