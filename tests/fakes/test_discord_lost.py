"""The fake's message history and its lost responses, driven by real discord.py over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import discord
import discord.http
import pytest

from bot.discord.http import use_discord_http
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.discord_traffic import FaultPlan

MESSAGES = "/channels/{channel_id}/messages"


class FakeClockSleeps:
    """discord.py's waits taken on the fake's clock: it moves on at once, nobody waits."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake

    async def sleep(self, delay: float) -> None:
        """Move the fake clock by `delay`."""
        self.fake.advance(max(0.0, delay))
        await asyncio.sleep(0)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """Yield a started fake Discord."""
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
async def thread(fake: FakeDiscord) -> AsyncIterator[tuple[discord.Client, discord.Thread]]:
    """Yield a logged-in REST client and a public thread in a fresh text channel."""
    use_discord_http(fake.api_base, FakeClockSleeps(fake).sleep)
    client = discord.Client(intents=discord.Intents.none(), max_ratelimit_timeout=30)
    await client.login(fake.token)
    channel = await client.fetch_channel(fake.add_text_channel(fake.add_guild().id).id)
    assert isinstance(channel, discord.TextChannel)
    made = await channel.create_thread(name="PR #1", type=discord.ChannelType.public_thread)
    yield client, made
    await client.close()


async def get(client: discord.Client, channel_id: int, **query: int) -> list[dict[str, str]]:
    route = discord.http.Route("GET", MESSAGES, channel_id=channel_id)
    found: list[dict[str, str]] = await client.http.request(route, params=query)
    return found


# -- history ------------------------------------------------------------------------------------


async def test_history_pages_newest_first_whichever_anchor(
    thread: tuple[discord.Client, discord.Thread],
) -> None:
    client, where = thread
    sent = [(await where.send(f"m{i}", nonce=f"n{i}")).id for i in range(7)]
    newest = await get(client, where.id, limit=3)
    assert [int(m["id"]) for m in newest] == sent[:-4:-1]
    after = await get(client, where.id, after=sent[1], limit=3)
    assert [int(m["id"]) for m in after] == [sent[4], sent[3], sent[2]]  # oldest 3 after it
    before = await get(client, where.id, before=sent[3])
    assert [int(m["id"]) for m in before] == sent[2::-1]
    around = await get(client, where.id, around=sent[3], limit=4)
    assert [int(m["id"]) for m in around] == sent[4:0:-1]
    # discord.py's own paging (after = the first element of each page) walks them in order.
    walked = [m.id async for m in where.history(after=discord.Object(sent[0]), limit=None)]
    assert walked == sent[1:]


async def test_history_keeps_no_nonce_but_the_create_answer_echoes_it(
    thread: tuple[discord.Client, discord.Thread],
) -> None:
    client, where = thread
    made = await where.send("hello", nonce="run1-step1")
    assert made.nonce == "run1-step1"
    (listed,) = await get(client, where.id)
    assert "nonce" not in listed
    fetched = await where.fetch_message(made.id)
    assert fetched.nonce is None


@pytest.mark.parametrize(
    "query", [{"limit": 0}, {"limit": 101}, {"before": 5, "after": 1}, {"after": -1, "around": 2}]
)
async def test_history_refuses_what_discord_refuses(
    thread: tuple[discord.Client, discord.Thread], query: dict[str, int]
) -> None:
    client, where = thread
    with pytest.raises(discord.HTTPException) as refused:
        await get(client, where.id, **query)
    assert (refused.value.status, refused.value.code) == (400, 50035)


# -- lost responses -----------------------------------------------------------------------------


async def test_lost_502_is_retried_by_discord_py_and_doubles_after_the_nonce_window(
    fake: FakeDiscord, thread: tuple[discord.Client, discord.Thread]
) -> None:
    _, where = thread
    fake.nonce_window_s = 0.5  # discord.py waits 1 s before it retries a 502: past the window
    fake.faults.lose_next("POST", MESSAGES)
    await where.send("hello", nonce="run1-step1")
    assert fake.requests.statuses("POST", MESSAGES) == [502, 200]
    assert [m.content for m in fake.messages_in(where.id)] == ["hello", "hello"]


async def test_lost_502_inside_the_nonce_window_is_single(
    fake: FakeDiscord, thread: tuple[discord.Client, discord.Thread]
) -> None:
    _, where = thread
    fake.faults.lose_next("POST", MESSAGES)
    await where.send("hello", nonce="run1-step1")
    assert [m.content for m in fake.messages_in(where.id)] == ["hello"]


async def test_dropped_connection_after_the_write(
    fake: FakeDiscord, thread: tuple[discord.Client, discord.Thread]
) -> None:
    _, where = thread
    fake.faults.lose_next("POST", MESSAGES, drop=True)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await where.send("hello", nonce="run1-step1")
    assert [m.content for m in fake.messages_in(where.id)] == ["hello"]
    assert fake.requests.statuses("POST", MESSAGES) == [0]  # no answer


async def test_a_thread_created_behind_a_dropped_answer_exists(
    fake: FakeDiscord, thread: tuple[discord.Client, discord.Thread]
) -> None:
    client, where = thread
    fake.faults.lose_next("POST", "/channels/{channel_id}/threads", drop=True)
    parent = await client.fetch_channel(where.parent_id)
    assert isinstance(parent, discord.TextChannel)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await parent.create_thread(name="PR #2", type=discord.ChannelType.public_thread)
    assert [t.name for t in fake.threads_in(parent.id)] == ["PR #1", "PR #2"]


def test_random_losses_hit_writes_only_and_follow_the_seed() -> None:
    def rolls(seed: int, method: str) -> list[tuple[int, bool, bool] | None]:
        plan = FaultPlan(p_lost=0.3, seed=seed)
        faults = [plan.draw(method, "/channels/1/messages", MESSAGES) for _ in range(60)]
        return [None if f is None else (f.status, f.apply, f.drop) for f in faults]

    assert rolls(1, "POST") == rolls(1, "POST")
    assert rolls(1, "GET") == [None] * 60
    lost = [f for f in rolls(1, "POST") if f is not None]
    assert 5 < len(lost) < 35
    assert {(status, applied) for status, applied, _ in lost} == {(502, True)}
    assert {drop for *_, drop in lost} == {True, False}
