"""`prbot check` reads Redis's persistence and says what a crash or restart can lose.

Verdicts from each configuration, then real redis-server processes started with those settings
(and one where CONFIG is disabled, as on some managed Redis).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from bot.ops.check import Report, run_checks
from bot.ops.check.durability import eviction_check, persistence_check
from bot.ops.check.probe import durability_checks
from bot.runtime import Store
from tests.loopback import free_port

AOF = {"appendonly": "yes", "save": "3600 1 300 100 60 10000"}


def verdict(
    config: dict[str, str], check: Callable[..., None] = persistence_check
) -> tuple[str, str]:
    """Return (status, detail) of one check on `config`."""
    report = Report()
    check(config, report)
    [row] = report.checks
    return row.status, row.detail


def test_aof_fsync_always_and_everysec_are_fine_and_say_what_they_can_lose() -> None:
    assert verdict(AOF | {"appendfsync": "always"}) == (
        "ok", "append-only file, fsync always: nothing accepted is lost"
    )  # fmt: skip
    status, detail = verdict(AOF | {"appendfsync": "everysec"})
    assert status == "ok" and "at most about 1 s" in detail


@pytest.mark.parametrize(
    ("config", "words"),
    [
        (AOF | {"appendfsync": "no"}, "without fsync (appendfsync no)"),
        (
            {"appendonly": "no", "save": "3600 1 300 100"},
            "1 changes in 3600 s, 100 changes in 300 s",
        ),
        ({"appendonly": "no", "save": ""}, "a restart loses every accepted delivery"),
    ],
    ids=["aof-no-fsync", "snapshots-only", "nothing"],
)
def test_configurations_that_can_lose_accepted_deliveries_warn(
    config: dict[str, str], words: str
) -> None:
    status, detail = verdict(config)
    assert status == "warn" and words in detail
    assert "redeliver" in detail  # and how to heal


def test_eviction() -> None:
    assert verdict({"maxmemory": "0", "maxmemory-policy": "allkeys-lru"}, eviction_check)[0] == "ok"
    assert (
        verdict({"maxmemory": "100mb", "maxmemory-policy": "noeviction"}, eviction_check)[0] == "ok"
    )
    status, detail = verdict({"maxmemory": "104857600", "maxmemory-policy": "allkeys-lru"},
                             eviction_check)  # fmt: skip
    assert status == "warn" and "noeviction" in detail


needs_redis_server = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs the redis-server binary"
)


@asynccontextmanager
async def redis_server(tmp_path: Path, *args: str) -> AsyncIterator[str]:
    """Run a private redis-server with `args`; yield its URL."""
    port = free_port()
    binary = shutil.which("redis-server") or "redis-server"
    process = await asyncio.create_subprocess_exec(
        binary, "--port", str(port), "--dir", str(tmp_path), "--bind", "127.0.0.1", *args,
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = aioredis.Redis.from_url(url)
    try:
        async with asyncio.timeout(10):
            while True:
                try:
                    await client.ping()
                    break
                except (RedisError, OSError):
                    await asyncio.sleep(0.02)
        yield url
    finally:
        await client.aclose()
        process.terminate()
        await process.wait()


async def rows_for(url: str | None) -> dict[str, tuple[str, str]]:
    """Return the durability rows for the server at `url` (None: the embedded store)."""
    report = Report()
    store = Store.connect(url)
    try:
        await durability_checks(store, report)
    finally:
        await store.close()
    return {c.name: (c.status, c.detail) for c in report.checks}


async def test_the_embedded_store_warns_that_it_keeps_nothing() -> None:
    found = await rows_for(None)
    assert found == {
        "Redis persistence": ("warn", "embedded in-process store, nothing survives a restart")
    }


@needs_redis_server
@pytest.mark.slow
async def test_a_real_redis_with_aof_everysec_passes(tmp_path: Path) -> None:
    args = ("--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction")
    async with redis_server(tmp_path, *args) as url:
        found = await rows_for(url)
        report, _ = await run_checks({"REDIS_URL": url})
    assert found["Redis persistence"][0] == "ok" and "1 s" in found["Redis persistence"][1]
    assert found["Redis eviction"][0] == "ok"
    assert [c.name for c in report.checks if c.name.startswith("Redis")] == [
        "Redis", "Redis persistence", "Redis eviction"
    ]  # fmt: skip


@needs_redis_server
@pytest.mark.slow
async def test_a_real_redis_without_persistence_warns(tmp_path: Path) -> None:
    args = ("--appendonly", "no", "--save", "", "--maxmemory", "64mb")
    async with redis_server(tmp_path, *args, "--maxmemory-policy", "allkeys-lru") as url:
        found = await rows_for(url)
    status, detail = found["Redis persistence"]
    assert status == "warn" and "a restart loses every accepted delivery" in detail
    assert found["Redis eviction"][0] == "warn"


@needs_redis_server
@pytest.mark.slow
async def test_a_redis_that_hides_its_config_gets_a_warning(tmp_path: Path) -> None:
    async with redis_server(tmp_path, "--rename-command", "CONFIG", "") as url:
        found = await rows_for(url)
    status, detail = found["Redis persistence"]
    assert status == "warn" and detail.startswith("cannot read CONFIG")
    assert "appendonly yes" in detail
