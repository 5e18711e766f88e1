"""The shared global pace: GCRA arithmetic on a real Redis, and no global 429s from the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.discord import OutMessage, open_adapter
from bot.discord.pacing import RedisPacer
from bot.discord.rest import DiscordRestAdapter
from bot.runtime import Store
from bot.settings import load_settings
from tests.discord.world import FakeTimeSleeps, fast_sleeps
from tests.fakes.discord_server import FakeDiscord

__all__ = ["fast_sleeps"]


class Clock:
    """Milliseconds that move only when a pacer sleeps."""

    def __init__(self) -> None:
        self.ms = 1_000_000.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.ms

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.ms += seconds * 1000


async def test_requests_go_at_once_up_to_the_burst_then_one_interval_apart(
    real_store: Store,
) -> None:
    clock = Clock()
    pacer = RedisPacer(real_store, "t", 10, burst=5, now_ms=clock.now)
    waits = [await pacer.reserve() for _ in range(7)]
    assert waits == [0, 0, 0, 0, 0, 0.1, 0.2]
    clock.ms += 1_000  # a quiet second refills the burst
    assert await pacer.reserve() == 0


async def test_processes_sharing_the_key_share_one_pace(real_store: Store) -> None:
    clock = Clock()
    a, b = (
        RedisPacer(real_store, "t", 20, burst=1, now_ms=clock.now, sleep=clock.sleep)
        for _ in range(2)
    )
    for pacer in (a, b, a, b):
        await pacer.wait()
    assert clock.slept == [0.05, 0.05, 0.05]  # one interval apart whoever asks
    other = RedisPacer(real_store, "t-other", 20, burst=1, now_ms=clock.now)
    assert await other.reserve() == 0  # another bot's key is another pace


@pytest.fixture
async def strict_fake(fast_sleeps: FakeTimeSleeps) -> AsyncIterator[FakeDiscord]:
    """Yield a fake Discord whose global limit is 10 requests per second."""
    async with FakeDiscord(global_limit=10, route_limit=1_000) as fake:
        fast_sleeps.fake = fake
        yield fake


async def send_alternately(
    fake: FakeDiscord, adapters: list[DiscordRestAdapter], count: int
) -> int:
    """Send `count` messages, alternating adapters; return how many 429s the fake answered."""
    guild = fake.add_guild()
    channel = fake.add_text_channel(guild.id)
    for i in range(count):
        await adapters[i % 2].send(channel.id, OutMessage(content=f"m{i}"), nonce=f"n{i}")
    assert len(fake.messages_in(channel.id)) == count
    return fake.requests.count(status=429)


async def paced_adapters(
    fake: FakeDiscord, store: Store | None, sleeps: FakeTimeSleeps
) -> list[DiscordRestAdapter]:
    """Log two adapters in (two processes' worth), pacing them on `store` at 8/s if given."""
    adapters = [
        await DiscordRestAdapter.login(fake.token, fake.api_base, sleep=sleeps.sleep)
        for _ in range(2)
    ]
    fake.advance(1.0)  # logins (unpaced, once per process) are a second behind the sends
    if store is not None:
        for adapter in adapters:
            adapter.pacer = RedisPacer(
                store, "t", 8, burst=2, now_ms=lambda: fake.now() * 1000,
                sleep=lambda s: _advance(fake, s),
            )  # fmt: skip
    return adapters


async def _advance(fake: FakeDiscord, seconds: float) -> None:
    fake.advance(seconds)


async def test_paced_adapters_stay_under_the_global_limit(
    strict_fake: FakeDiscord, real_store: Store, fast_sleeps: FakeTimeSleeps
) -> None:
    adapters = await paced_adapters(strict_fake, real_store, fast_sleeps)
    try:
        assert await send_alternately(strict_fake, adapters, 30) == 0
    finally:
        for adapter in adapters:
            await adapter.close()


async def test_unpaced_adapters_collect_global_429s(
    strict_fake: FakeDiscord, fast_sleeps: FakeTimeSleeps
) -> None:
    adapters = await paced_adapters(strict_fake, None, fast_sleeps)
    try:
        assert await send_alternately(strict_fake, adapters, 30) > 0
    finally:
        for adapter in adapters:
            await adapter.close()


async def test_login_retries_passing_failures_then_paces_on_the_store(
    strict_fake: FakeDiscord, real_store: Store
) -> None:
    strict_fake.faults.fail_next("GET", "/users/@me", 503, times=2)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    settings = load_settings(
        {"DISCORD_TOKEN": strict_fake.token, "DISCORD_API_BASE": strict_fake.api_base}
    )
    adapter = await open_adapter(settings, store=real_store, sleep=sleep)
    try:
        # prbot's own backoff between logins; discord.py's waits also come here, as 0 s.
        assert [s for s in slept if s] == [2.0, 4.0]
        assert isinstance(adapter, DiscordRestAdapter)
        assert isinstance(adapter.pacer, RedisPacer)
        assert adapter.pacer.name == "discord"  # the key data:discord:pace, shared by all
    finally:
        await adapter.close()


async def test_login_with_a_bad_token_fails_at_once(strict_fake: FakeDiscord) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    settings = load_settings(
        {"DISCORD_TOKEN": "not-the-token", "DISCORD_API_BASE": strict_fake.api_base}
    )
    with pytest.raises(Exception, match="invalid DISCORD_TOKEN"):
        await open_adapter(settings, sleep=sleep)
    assert slept == []
