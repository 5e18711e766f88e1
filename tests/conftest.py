"""Shared fixtures: a real Redis (flushed per test) and the embedded store."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bot.runtime import Store

# A dedicated database on the Redis that .ci/run makes sure answers; flushed before each test.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


@pytest.fixture
def redis_url() -> str:
    """Return the URL of the real test Redis database."""
    return TEST_REDIS_URL


async def flushed_redis_store(redis_url: str) -> Store:
    """Return a store on the real Redis, its database flushed first."""
    client = aioredis.Redis.from_url(redis_url)
    await client.flushdb()
    await client.aclose()
    return Store.connect(redis_url, prefix="test")


@pytest.fixture
async def real_store(redis_url: str) -> AsyncIterator[Store]:
    """Yield a store on the real Redis, its database flushed first."""
    store = await flushed_redis_store(redis_url)
    yield store
    await store.close()


@pytest.fixture
async def embedded_store() -> AsyncIterator[Store]:
    """Yield a store on the embedded in-process Redis."""
    store = Store.connect(None, prefix="test")
    yield store
    await store.close()


@pytest.fixture(params=["embedded", "redis"])
async def store(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[Store]:
    """Yield each store in turn: the contract suite runs against both."""
    if request.param == "embedded":
        s = Store.connect(None, prefix="test")
    else:
        s = await flushed_redis_store(redis_url)
    yield s
    await s.close()
