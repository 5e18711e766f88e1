"""The periodic backfill in `prbot serve`: at start, then once per interval across processes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.ops.backfill import BackfillLoop, lookback_s, periodic_backfill
from bot.ops.serve import Service, build_store
from bot.runtime import Store
from bot.settings import Settings, load_settings
from bot.web.metrics import Metrics
from tests.github.world import Door, door_world
from tests.loopback import free_port, wait_until_up

LIST = "/app/hook/deliveries"
ATTEMPTS = "/app/hook/deliveries/{delivery_id}/attempts"
INTERVAL_S = 300.0
SECRET = "hook-secret-for-loop-tests-0123456789"


class Ticker:
    """A `sleep` that returns only when the test moves the (fake GitHub's) clock on."""

    def __init__(self, door: Door) -> None:
        self.door = door
        self.sleeping = 0
        self.generation = 0
        self.cond = asyncio.Condition()

    async def sleep(self, seconds: float) -> None:
        """Wait until the test advances time."""
        async with self.cond:
            self.sleeping += 1
            self.cond.notify_all()
            generation = self.generation
            await self.cond.wait_for(lambda: self.generation > generation)
            self.sleeping -= 1

    async def until_sleeping(self, n: int) -> None:
        """Wait until `n` loops sleep (each finished its tick)."""
        async with self.cond:
            await asyncio.wait_for(self.cond.wait_for(lambda: self.sleeping >= n), 10)

    async def advance(self, seconds: float, loops: int) -> None:
        """Move time on by `seconds`, wake the loops, and wait for them to sleep again."""
        async with self.cond:
            self.door.fake.advance(seconds)
            self.generation += 1
            self.cond.notify_all()
        await asyncio.sleep(0)
        await self.until_sleeping(loops)


@pytest.fixture
async def door(real_store: Store) -> AsyncIterator[Door]:
    """Yield a seeded fake GitHub whose App hook points nowhere (every delivery fails)."""
    async with door_world(real_store) as world:
        world.fake.set_app_hook(world.world.app, "http://127.0.0.1:9/down", SECRET)
        yield world


def settings_for(door: Door, redis_url: str, **extra: str) -> Settings:
    """Return service settings on the test Redis with the App."""
    env = door.app_env(
        GITHUB_WEBHOOK_SECRET=SECRET, REDIS_URL=redis_url, REDIS_KEY_PREFIX="test", **extra
    )
    return load_settings(env)


def test_lookback_covers_the_time_since_the_last_good_run() -> None:
    assert lookback_s(1_000_000, None, 300) == 3 * 86400
    assert lookback_s(10_000_000, 10_000_000 - 3_600_000, 300) == 3600 + 600
    assert lookback_s(10**12, 0, 300) == 3 * 86400


async def test_two_processes_run_one_backfill_per_interval(door: Door, redis_url: str) -> None:
    settings = settings_for(door, redis_url)
    ticker = Ticker(door)
    metrics = [Metrics(), Metrics()]
    hook = door.fake.hooks.find("app", str(door.world.app.id))
    missed = door.fake.hooks.record(hook, "pull_request", {"action": "opened"}, status_code=0)
    async with contextlib.AsyncExitStack() as stack:
        services = []
        for m in metrics:
            store = build_store(settings)
            stack.push_async_callback(store.close)
            loop = await stack.enter_async_context(
                periodic_backfill(settings, store, m, clock=door.clock, sleep=ticker.sleep)
            )
            assert isinstance(loop, BackfillLoop)
            services.append(Service(settings, "all", store, [], metrics=m, backfill=loop))
        stop = asyncio.Event()
        ports = [free_port(), free_port()]
        tasks = [
            asyncio.create_task(s.run("127.0.0.1", p, stop))
            for s, p in zip(services, ports, strict=True)
        ]
        try:
            for port in ports:
                await wait_until_up(f"http://127.0.0.1:{port}")
            await ticker.until_sleeping(2)
            assert door.fake.requests.count("GET", LIST) == 1  # at start, by one of them
            assert door.fake.requests.count("POST", ATTEMPTS) == 1
            await door.fake.settle()
            await ticker.advance(INTERVAL_S / 2, loops=2)
            assert door.fake.requests.count("GET", LIST) == 1  # not due yet
            await ticker.advance(INTERVAL_S / 2, loops=2)
            assert door.fake.requests.count("GET", LIST) == 2
            await door.fake.settle()
            await ticker.advance(INTERVAL_S, loops=2)
            assert door.fake.requests.count("GET", LIST) == 3
            async with httpx.AsyncClient() as http:
                scraped = [await http.get(f"http://127.0.0.1:{port}/metrics") for port in ports]
            text = "".join(r.text for r in scraped)
        finally:
            stop.set()
            codes = await asyncio.gather(*tasks)
    assert codes == [0, 0]
    # The target is down, so each run asked again; the metrics of the two add up.
    assert [d.guid for d in door.fake.deliveries_of(hook)] == [missed.guid] * 4
    assert total(text, 'prbot_backfill_runs_total{result="ok"}') == 3
    assert total(text, 'prbot_backfill_deliveries_total{outcome="redelivered"}') == 3
    assert total(text, 'prbot_backfill_deliveries_total{outcome="missed"}') == 3
    assert total(text, "prbot_backfill_last_run_timestamp_seconds") > 0


def total(text: str, series: str) -> float:
    """Add up one series over several processes' /metrics texts."""
    lines = text.splitlines()
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith(series + " "))


async def test_without_api_access_the_loop_is_off_and_says_so(
    door: Door, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.ops.backfill")
    settings = load_settings({"REDIS_URL": redis_url, "GITHUB_WEBHOOK_SECRET": SECRET})
    store = build_store(settings)
    try:
        async with periodic_backfill(settings, store, Metrics()) as loop:
            assert loop is None
        off = settings_for(door, redis_url, BACKFILL_INTERVAL="off")
        async with periodic_backfill(off, store, Metrics()) as loop:
            assert loop is None
    finally:
        await store.close()
    assert "periodic backfill off: no GITHUB_TOKEN or GitHub App" in caplog.text
    assert "periodic backfill off: BACKFILL_INTERVAL is off" in caplog.text
