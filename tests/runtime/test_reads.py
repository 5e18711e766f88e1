"""The store's read of the server's persistence settings: real Redis, a refusing user, embedded."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis.asyncio as aioredis

from bot.runtime import Store, StoreUnavailableError
from bot.runtime.reads import PERSISTENCE_KEYS


async def test_a_real_redis_says_how_it_persists(real_store: Store, redis_url: str) -> None:
    found = await real_store.reads.persistence()
    assert not found.embedded and found.unreadable == ""
    assert set(found.config) == set(PERSISTENCE_KEYS)
    # The same answer the server gives anyone who asks.
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        assert found.config == await client.config_get(*PERSISTENCE_KEYS)
    finally:
        await client.aclose()


@asynccontextmanager
async def user_without_config(redis_url: str) -> AsyncIterator[str]:
    """Add an ACL user allowed everything but CONFIG (as on managed Redis); yield its URL."""
    name, password = f"prbot-test-{uuid.uuid4().hex[:12]}", uuid.uuid4().hex
    admin = aioredis.Redis.from_url(redis_url)
    await admin.acl_setuser(
        name, enabled=True, passwords=[f"+{password}"], keys=["*"], channels=["*"],
        commands=["+@all", "-config"],
    )  # fmt: skip
    parts = urlsplit(redis_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    try:
        yield urlunsplit(parts._replace(netloc=f"{name}:{password}@{host}"))
    finally:
        await admin.acl_deluser(name)
        await admin.aclose()


async def test_a_user_without_config_permission_gets_a_reason_not_an_error(
    real_store: Store, redis_url: str
) -> None:
    async with user_without_config(redis_url) as url:
        store = Store.connect(url, prefix="test")
        try:
            await store.ping()  # the user may do everything else
            found = await store.reads.persistence()
        finally:
            await store.close()
    assert found.config == {} and not found.embedded
    assert "no permissions" in found.unreadable and "config" in found.unreadable


async def test_the_embedded_store_says_it_keeps_nothing(embedded_store: Store) -> None:
    found = await embedded_store.reads.persistence()
    assert found.embedded and found.config == {} and found.unreadable == ""


async def test_a_redis_that_does_not_answer_is_unavailable() -> None:
    store = Store.connect("redis://127.0.0.1:1/0", prefix="test")
    try:
        with pytest.raises(StoreUnavailableError):
            await store.reads.persistence()
    finally:
        await store.close()
