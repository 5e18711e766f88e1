"""The fake Discord, driven by real discord.py over real HTTP (REST only, nothing mocked)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import discord
import discord.http
import pytest

from bot.discord.http import use_discord_http
from tests.fakes.discord_models import Channel, Guild
from tests.fakes.discord_rules import compute_pings
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.discord_traffic import FaultPlan

MESSAGES = "/channels/{channel_id}/messages"
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class World:
    """A started fake with one guild, one text channel and one forum with six tags."""

    fake: FakeDiscord
    guild: Guild
    text: Channel
    forum: Channel


class ScaledSleeps:
    """discord.http's view of asyncio with every sleep shrunk 1000×; records the delays asked.

    discord.py waits 1, 3, 5, 7, 9 s between 5xx retries; given to discord.py through the door's
    `use_discord_http`, it makes the retry path run in milliseconds.
    """

    def __init__(self) -> None:
        self.delays: list[float] = []

    @property
    def waits(self) -> list[float]:
        """The non-zero delays (discord.py also sleeps 0 s for its own bucket bookkeeping)."""
        return [d for d in self.delays if d > 0]

    async def sleep(self, delay: float) -> None:
        """Record ``delay`` and sleep a thousandth of it."""
        self.delays.append(delay)
        await asyncio.sleep(delay / 1000)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """Yield a started fake Discord."""
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
def world(fake: FakeDiscord) -> World:
    """Seed a guild with a text channel and a forum."""
    guild = fake.add_guild()
    text = fake.add_text_channel(guild.id)
    tags = ["open", "draft", "approved", "merged", "closed", "stale"]
    return World(fake, guild, text, fake.add_forum_channel(guild.id, tags=tags))


@pytest.fixture
async def client(fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    """Yield a REST-only discord.py client logged in to the fake."""
    use_discord_http(fake.api_base)
    bot = discord.Client(intents=discord.Intents.none(), max_ratelimit_timeout=30)
    await bot.login(fake.token)
    yield bot
    await bot.close()


@pytest.fixture
def sleeps(fake: FakeDiscord) -> ScaledSleeps:
    """Make discord.py's retry sleeps take milliseconds (the way prbot's door injects a sleep)."""
    scaled = ScaledSleeps()
    use_discord_http(fake.api_base, scaled.sleep)
    return scaled


async def text_channel(client: discord.Client, world: World) -> discord.TextChannel:
    channel = await client.fetch_channel(world.text.id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def forum_channel(client: discord.Client, world: World) -> discord.ForumChannel:
    channel = await client.fetch_channel(world.forum.id)
    assert isinstance(channel, discord.ForumChannel)
    return channel


async def public_thread(
    client: discord.Client, world: World, name: str = "PR #1"
) -> discord.Thread:
    channel = await text_channel(client, world)
    return await channel.create_thread(name=name, type=discord.ChannelType.public_thread)


async def raw(client: discord.Client, method: str, path: str, body: Any = None, **ids: Any) -> Any:
    """Send one request through discord.py's own HTTP client (for payloads it would refuse)."""
    route = discord.http.Route(method, path, **ids)
    if body is None:
        return await client.http.request(route)
    return await client.http.request(route, json=body)


# -- login and auth -------------------------------------------------------------------------------


async def test_login_calls_users_me_then_application(
    fake: FakeDiscord, client: discord.Client
) -> None:
    assert client.user is not None and client.user.id == fake.state.bot.id
    assert fake.requests.count("GET", "/users/@me", 200) == 1
    assert fake.requests.count("GET", "/oauth2/applications/@me", 200) == 1
    assert fake.requests.count() == 2


async def test_wrong_token_is_401_login_failure(
    fake: FakeDiscord,
) -> None:
    use_discord_http(fake.api_base)
    bot = discord.Client(intents=discord.Intents.none())
    with pytest.raises(discord.LoginFailure):
        await bot.login("not-the-token")
    await bot.close()
    assert fake.requests.count(status=401) == 1
    assert fake.requests.invalid_recently(fake.now()) == 1


async def test_max_ratelimit_timeout_is_at_least_30s() -> None:
    bot = discord.Client(intents=discord.Intents.none(), max_ratelimit_timeout=1)
    assert bot.http.max_ratelimit_timeout == 30.0


# -- threads in text channels ---------------------------------------------------------------------


async def test_thread_without_type_is_private(world: World, client: discord.Client) -> None:
    data = await raw(
        client,
        "POST",
        "/channels/{channel_id}/threads",
        {"name": "PR #1"},
        channel_id=world.text.id,
    )
    assert data["type"] == 12
    [thread] = world.fake.threads_in(world.text.id)
    assert thread.type == 12


async def test_discord_py_default_is_private_too(world: World, client: discord.Client) -> None:
    channel = await text_channel(client, world)
    thread = await channel.create_thread(name="PR #1")
    assert thread.type is discord.ChannelType.private_thread


async def test_public_thread_when_type_11(world: World, client: discord.Client) -> None:
    thread = await public_thread(client, world)
    assert thread.type is discord.ChannelType.public_thread
    assert [t.id for t in world.fake.threads_in(world.text.id)] == [thread.id]
    assert world.fake.threads_in(world.text.id)[0].type == 11


@pytest.mark.parametrize(
    ("name", "duration"),
    [("x" * 101, 1440), ("", 1440), ("PR #1", 61)],
    ids=["name-too-long", "name-empty", "bad-archive-duration"],
)
async def test_thread_create_limits(
    world: World, client: discord.Client, name: str, duration: Any
) -> None:
    channel = await text_channel(client, world)
    with pytest.raises(discord.HTTPException) as caught:
        await channel.create_thread(
            name=name, type=discord.ChannelType.public_thread, auto_archive_duration=duration
        )
    assert (caught.value.status, caught.value.code) == (400, 50035)
    assert world.fake.threads_in(world.text.id) == []


async def test_thread_name_of_100_is_fine(world: World, client: discord.Client) -> None:
    thread = await public_thread(client, world, name="x" * 100)
    assert len(thread.name) == 100


async def test_no_thread_inside_a_thread(world: World, client: discord.Client) -> None:
    thread = await public_thread(client, world)
    with pytest.raises(discord.HTTPException) as caught:
        await raw(
            client,
            "POST",
            "/channels/{channel_id}/threads",
            {"name": "x", "type": 11},
            channel_id=thread.id,
        )
    assert caught.value.code == 50024


# -- forum posts ----------------------------------------------------------------------------------


async def test_forum_post_has_starter_message_and_tags(
    world: World, client: discord.Client
) -> None:
    forum = await forum_channel(client, world)
    tags = forum.available_tags[:2]
    post = await forum.create_thread(name="PR #2", content="opened", applied_tags=tags)
    assert post.thread.id == post.message.id
    assert post.message.content == "opened"
    [thread] = world.fake.threads_in(world.forum.id)
    assert (thread.type, thread.applied_tags) == (11, [t.id for t in tags])
    assert thread.message_count == 0
    assert [m.content for m in world.fake.messages_in(thread.id)] == ["opened"]


async def test_forum_post_rejects_six_tags(world: World, client: discord.Client) -> None:
    forum = await forum_channel(client, world)
    with pytest.raises(discord.HTTPException) as caught:
        await forum.create_thread(name="PR", content="x", applied_tags=forum.available_tags)
    assert (caught.value.status, caught.value.code) == (400, 50035)
    assert world.fake.threads_in(world.forum.id) == []


async def test_forum_post_rejects_foreign_tag(world: World, client: discord.Client) -> None:
    forum = await forum_channel(client, world)
    foreign = discord.ForumTag(name="elsewhere")
    foreign.id = 42
    with pytest.raises(discord.HTTPException) as caught:
        await forum.create_thread(name="PR", content="x", applied_tags=[foreign])
    assert caught.value.code == 50035


async def test_forum_post_needs_a_message(world: World, client: discord.Client) -> None:
    forum = await forum_channel(client, world)
    with pytest.raises(discord.HTTPException) as caught:
        await forum.create_thread(name="PR")
    assert caught.value.code == 50006
    with pytest.raises(discord.HTTPException) as caught:
        await raw(
            client,
            "POST",
            "/channels/{channel_id}/threads",
            {"name": "PR"},
            channel_id=world.forum.id,
        )
    assert caught.value.code == 50035


async def test_forum_that_requires_a_tag(
    fake: FakeDiscord, world: World, client: discord.Client
) -> None:
    strict = fake.add_forum_channel(world.guild.id, "strict", tags=["open"], require_tag=True)
    with pytest.raises(discord.HTTPException) as caught:
        body = {"name": "PR", "message": {"content": "x"}}
        await raw(client, "POST", "/channels/{channel_id}/threads", body, channel_id=strict.id)
    assert caught.value.code == 40067


async def test_nothing_can_be_posted_to_the_forum_itself(
    world: World, client: discord.Client
) -> None:
    with pytest.raises(discord.Forbidden) as caught:
        await raw(client, "POST", MESSAGES, {"content": "hi"}, channel_id=world.forum.id)
    assert caught.value.code == 40058


async def test_forum_thread_retag(world: World, client: discord.Client) -> None:
    forum = await forum_channel(client, world)
    post = await forum.create_thread(name="PR", content="x", applied_tags=[forum.available_tags[0]])
    await post.thread.edit(applied_tags=[forum.available_tags[3]])
    assert world.fake.threads_in(world.forum.id)[0].applied_tags == [forum.available_tags[3].id]


# -- messages -------------------------------------------------------------------------------------


def _embed(**fields: str) -> discord.Embed:
    embed = discord.Embed(title=fields.get("title"), description=fields.get("description"))
    if "footer" in fields:
        embed.set_footer(text=fields["footer"])
    if "author" in fields:
        embed.set_author(name=fields["author"])
    return embed


def _with_fields(count: int, name: str = "n", value: str = "v") -> discord.Embed:
    embed = discord.Embed(title="t")
    for _ in range(count):
        embed.add_field(name=name, value=value)
    return embed


TOO_BIG: dict[str, Callable[[], dict[str, Any]]] = {
    "content-2001": lambda: {"content": "x" * 2001},
    "title-257": lambda: {"embed": _embed(title="x" * 257)},
    "description-4097": lambda: {"embed": _embed(description="x" * 4097)},
    "footer-2049": lambda: {"embed": _embed(title="t", footer="x" * 2049)},
    "author-257": lambda: {"embed": _embed(title="t", author="x" * 257)},
    "26-fields": lambda: {"embed": _with_fields(26)},
    "field-name-257": lambda: {"embed": _with_fields(1, name="x" * 257)},
    "field-value-1025": lambda: {"embed": _with_fields(1, value="x" * 1025)},
    "embeds-total-6001": lambda: {
        "embeds": [_embed(description="x" * 3001), _embed(description="x" * 3000)]
    },
}

AT_LIMIT: dict[str, Callable[[], dict[str, Any]]] = {
    "content-2000": lambda: {"content": "x" * 2000},
    "title-256-description-4096": lambda: {
        "embed": _embed(title="x" * 256, description="x" * 4096)
    },
    "25-fields": lambda: {"embed": _with_fields(25)},
    "embeds-total-6000": lambda: {
        "embeds": [_embed(description="x" * 3000), _embed(description="x" * 3000)]
    },
}


@pytest.mark.parametrize("make", TOO_BIG.values(), ids=TOO_BIG.keys())
async def test_message_over_a_limit_is_rejected(
    world: World, client: discord.Client, make: Callable[[], dict[str, Any]]
) -> None:
    thread = await public_thread(client, world)
    with pytest.raises(discord.HTTPException) as caught:
        await thread.send(**make())
    assert (caught.value.status, caught.value.code) == (400, 50035)
    assert world.fake.messages_in(thread.id) == []


@pytest.mark.parametrize("make", AT_LIMIT.values(), ids=AT_LIMIT.keys())
async def test_message_at_a_limit_is_accepted(
    world: World, client: discord.Client, make: Callable[[], dict[str, Any]]
) -> None:
    thread = await public_thread(client, world)
    await thread.send(**make())
    assert len(world.fake.messages_in(thread.id)) == 1


async def test_eleven_embeds_and_empty_messages(world: World, client: discord.Client) -> None:
    thread = await public_thread(client, world)
    eleven = {"embeds": [{"title": "t"}] * 11}
    with pytest.raises(discord.HTTPException) as caught:
        await raw(client, "POST", MESSAGES, eleven, channel_id=thread.id)
    assert caught.value.code == 50035
    with pytest.raises(discord.HTTPException) as caught:
        await raw(client, "POST", MESSAGES, {"content": ""}, channel_id=thread.id)
    assert caught.value.code == 50006


async def test_enforce_nonce_returns_the_first_message(
    world: World, client: discord.Client
) -> None:
    thread = await public_thread(client, world)
    first = await thread.send("hello", nonce="run1-step2")
    again = await thread.send("hello", nonce="run1-step2")
    assert again.id == first.id
    [stored] = world.fake.messages_in(thread.id)
    assert (stored.nonce, stored.enforce_nonce) == ("run1-step2", True)
    assert world.fake.requests.count("POST", MESSAGES, 200) == 2


async def test_nonce_is_forgotten_after_the_window(world: World, client: discord.Client) -> None:
    thread = await public_thread(client, world)
    first = await thread.send("hello", nonce="run1-step2")
    world.fake.advance(301)
    later = await thread.send("hello", nonce="run1-step2")
    assert later.id != first.id


async def test_discord_py_always_sends_a_nonce(world: World, client: discord.Client) -> None:
    thread = await public_thread(client, world)
    await thread.send("a")
    await thread.send("a")
    stored = world.fake.messages_in(thread.id)
    assert len(stored) == 2
    assert all(m.enforce_nonce and m.nonce for m in stored)


async def test_allowed_mentions_are_recorded_and_applied(
    world: World, client: discord.Client
) -> None:
    thread = await public_thread(client, world)
    text = "@everyone <@111> <@!222> <@&333>"
    await thread.send(text)
    await thread.send(text, allowed_mentions=discord.AllowedMentions.none())
    only_111 = discord.AllowedMentions(everyone=False, roles=False, users=[discord.Object(111)])
    await thread.send(text, allowed_mentions=only_111)
    default, none, some = world.fake.messages_in(thread.id)
    assert default.allowed_mentions is None
    assert (default.pings.everyone, default.pings.users, default.pings.roles) == (
        True,
        (111, 222),
        (333,),
    )
    assert none.allowed_mentions == {"parse": []}
    assert not none.pings.anyone
    assert some.allowed_mentions == {"parse": [], "users": [111], "replied_user": True}
    assert (some.pings.everyone, some.pings.users, some.pings.roles) == (False, (111,), ())


def test_pings_rules() -> None:
    assert compute_pings("@here", {"parse": ["everyone"]}).everyone
    assert not compute_pings("@here", {}).anyone
    assert compute_pings("<@&5>", {"parse": [], "roles": ["5"]}).roles == (5,)
    assert not compute_pings("no mentions", None).anyone


async def test_unknown_channel_and_message(world: World, client: discord.Client) -> None:
    with pytest.raises(discord.NotFound) as caught:
        await client.fetch_channel(12345)
    assert caught.value.code == 10003
    thread = await public_thread(client, world)
    with pytest.raises(discord.NotFound) as caught:
        await thread.fetch_message(1)
    assert caught.value.code == 10008


# -- archiving and renames ------------------------------------------------------------------------


async def test_posting_unarchives_a_thread(world: World, client: discord.Client) -> None:
    thread = await (await public_thread(client, world)).edit(archived=True)
    assert thread.archived
    await thread.send("still here")
    fetched = await client.fetch_channel(thread.id)
    assert isinstance(fetched, discord.Thread) and not fetched.archived


async def test_locked_archived_thread_refuses_posts(world: World, client: discord.Client) -> None:
    thread = await (await public_thread(client, world)).edit(archived=True, locked=True)
    with pytest.raises(discord.Forbidden) as caught:
        await thread.send("hello")
    assert caught.value.code == 50083
    assert world.fake.messages_in(thread.id) == []


@pytest.mark.parametrize(
    "change",
    [{"name": "renamed"}, {"locked": True}, {"archived": True, "locked": True}],
    ids=["rename", "lock", "archive-and-lock"],
)
async def test_patching_an_archived_thread_needs_archived_false(
    world: World, client: discord.Client, change: dict[str, Any]
) -> None:
    thread = await (await public_thread(client, world)).edit(archived=True)
    with pytest.raises(discord.HTTPException) as caught:
        await thread.edit(**change)
    assert (caught.value.status, caught.value.code) == (400, 50083)
    reopened = await thread.edit(**{**change, "archived": False})
    assert not reopened.archived


async def test_third_rename_in_ten_minutes_is_rate_limited(
    world: World, client: discord.Client
) -> None:
    thread = await public_thread(client, world)
    thread = await thread.edit(name="PR #1 v2")
    thread = await thread.edit(name="PR #1 v3")
    with pytest.raises(discord.RateLimited) as caught:
        await thread.edit(name="PR #1 v4")
    assert 599 < caught.value.retry_after <= 600
    world.fake.advance(300)
    with pytest.raises(discord.RateLimited) as caught:
        await thread.edit(name="PR #1 v4")
    assert 299 < caught.value.retry_after <= 300
    world.fake.advance(300)
    assert (await thread.edit(name="PR #1 v4")).name == "PR #1 v4"
    assert world.fake.requests.count("PATCH", "/channels/{channel_id}", 429) == 2


async def test_same_name_is_not_a_rename(world: World, client: discord.Client) -> None:
    thread = await public_thread(client, world)
    for name in ("PR #1", "PR #1", "PR #1 v2", "PR #1 v3"):
        thread = await thread.edit(name=name)
    assert thread.name == "PR #1 v3"


async def test_idle_threads_auto_archive(world: World, client: discord.Client) -> None:
    channel = await text_channel(client, world)
    thread = await channel.create_thread(
        name="PR", type=discord.ChannelType.public_thread, auto_archive_duration=60
    )
    world.fake.advance(3601)
    fetched = await client.fetch_channel(thread.id)
    assert isinstance(fetched, discord.Thread) and fetched.archived
    guild = await client.fetch_guild(world.guild.id)
    assert await guild.active_threads() == []


async def test_active_and_archived_listings(world: World, client: discord.Client) -> None:
    a, b, c, live = [await public_thread(client, world, f"PR #{n}") for n in range(4)]
    for thread in (a, c, b):
        await thread.edit(archived=True)
        world.fake.advance(10)
    guild = await client.fetch_guild(world.guild.id)
    assert [t.id for t in await guild.active_threads()] == [live.id]
    channel = await text_channel(client, world)
    assert [t.id async for t in channel.archived_threads()] == [b.id, c.id, a.id]
    page = await client.http.get_public_archived_threads(world.text.id, limit=2)
    assert [int(t["id"]) for t in page["threads"]] == [b.id, c.id] and page["has_more"]
    before = page["threads"][-1]["thread_metadata"]["archive_timestamp"]
    rest = await client.http.get_public_archived_threads(world.text.id, before=before, limit=2)
    assert [int(t["id"]) for t in rest["threads"]] == [a.id] and not rest["has_more"]


async def test_join_thread(world: World, client: discord.Client) -> None:
    thread = await public_thread(client, world)
    await thread.join()
    assert world.fake.requests.count("PUT", "/channels/{channel_id}/thread-members/@me", 204) == 1
    archived = await thread.edit(archived=True)
    with pytest.raises(discord.HTTPException) as caught:
        await archived.join()
    assert caught.value.code == 50083


# -- guild, roles, members, overwrites ------------------------------------------------------------


async def test_guild_roles_member_and_overwrites(
    fake: FakeDiscord, world: World, client: discord.Client
) -> None:
    muted = fake.add_role(world.guild.id, "muted")
    overwrite = {"id": str(muted.id), "type": 0, "allow": "0", "deny": str(1 << 11)}
    text = fake.add_text_channel(world.guild.id, "locked-down", permission_overwrites=[overwrite])
    guild = await client.fetch_guild(world.guild.id)
    assert {r.name for r in await guild.fetch_roles()} == {"@everyone", "prbot", "muted"}
    assert client.user is not None
    member = await guild.fetch_member(client.user.id)
    assert [r.name for r in member.roles] == ["@everyone", "prbot"]
    assert member.guild_permissions.manage_threads
    channel = await client.fetch_channel(text.id)
    assert isinstance(channel, discord.TextChannel)
    assert channel.overwrites_for(discord.Object(muted.id)).send_messages is False
    assert {c.id for c in await guild.fetch_channels()} == {world.text.id, world.forum.id, text.id}


# -- rate limits ----------------------------------------------------------------------------------


async def test_headers_and_429_of_a_route_bucket(world: World) -> None:
    url = f"{world.fake.api_base}/channels/{world.text.id}"
    headers = {"Authorization": f"Bot {world.fake.token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(url) as first:
            assert first.status == 200
            assert first.headers["X-RateLimit-Limit"] == "5"
            assert first.headers["X-RateLimit-Remaining"] == "4"
            assert float(first.headers["X-RateLimit-Reset-After"]) <= 1.0
            assert first.headers["X-RateLimit-Bucket"]
        for _ in range(4):
            async with http.get(url) as response:
                assert response.status == 200
        async with http.get(url) as limited:
            assert limited.status == 429
            body = await limited.json()
            assert body["global"] is False and 0 < body["retry_after"] <= 1.0
            assert limited.headers["Via"] == "1.1 google"
            assert limited.headers["X-RateLimit-Scope"] == "user"
            assert limited.headers["Retry-After"] == "1"


async def test_buckets_are_per_method_and_resource_and_configurable() -> None:
    async with FakeDiscord(route_limits={"GET /channels/{channel_id}": (1, 60.0)}) as fake:
        guild = fake.add_guild()
        one, two = fake.add_text_channel(guild.id), fake.add_text_channel(guild.id, "other")
        headers = {"Authorization": f"Bot {fake.token}"}
        async with aiohttp.ClientSession(headers=headers) as http:

            async def status(method: str, channel: Channel) -> int:
                url = f"{fake.api_base}/channels/{channel.id}"
                async with http.request(method, url, json={}) as response:
                    return response.status

            assert [await status("GET", one), await status("GET", one)] == [200, 429]
            assert await status("GET", two) == 200
            assert await status("PATCH", one) == 200


async def test_discord_py_obeys_the_buckets() -> None:
    async with FakeDiscord(route_limit=2, route_window_s=0.05) as fake:
        guild = fake.add_guild()
        text = fake.add_text_channel(guild.id)
        use_discord_http(fake.api_base)
        bot = discord.Client(intents=discord.Intents.none())
        try:
            await bot.login(fake.token)
            for _ in range(6):
                await bot.fetch_channel(text.id)
        finally:
            await bot.close()
        assert fake.requests.count("GET", "/channels/{channel_id}", 200) == 6
        assert fake.requests.count(status=429) == 0


async def test_global_limit() -> None:
    async with FakeDiscord(global_limit=3) as fake:
        headers = {"Authorization": f"Bot {fake.token}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            statuses = []
            for path in ("/users/@me", "/oauth2/applications/@me", "/users/@me", "/users/@me"):
                async with http.get(fake.api_base + path) as response:
                    statuses.append(response.status)
                    body = await response.json()
            assert response.headers["X-RateLimit-Global"] == "true"
            assert response.headers["X-RateLimit-Scope"] == "global"
    assert statuses == [200, 200, 200, 429]
    assert body["global"] is True


async def test_rename_429_carries_via(world: World, client: discord.Client) -> None:
    thread = await public_thread(client, world)
    url = f"{world.fake.api_base}/channels/{thread.id}"
    headers = {"Authorization": f"Bot {world.fake.token}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        for name in ("a", "b", "c"):
            async with http.patch(url, json={"name": name}) as response:
                body = await response.json()
        assert response.status == 429
        assert response.headers["Via"] == "1.1 google"
        assert response.headers["X-RateLimit-Scope"] == "user"
        assert body["retry_after"] > 599


# -- injected faults ------------------------------------------------------------------------------


async def test_5xx_is_retried_by_discord_py_then_raised(
    world: World, client: discord.Client, sleeps: ScaledSleeps
) -> None:
    thread = await public_thread(client, world)
    world.fake.faults.fail_next("POST", "/channels/*/messages", 500, times=5)
    with pytest.raises(discord.DiscordServerError):
        await thread.send("hello")
    assert sleeps.waits == [1, 3, 5, 7, 9]
    assert world.fake.requests.statuses("POST", MESSAGES) == [500] * 5
    assert world.fake.messages_in(thread.id) == []


async def test_502_html_is_retried_until_it_works(
    world: World, client: discord.Client, sleeps: ScaledSleeps
) -> None:
    thread = await public_thread(client, world)
    world.fake.faults.fail_next("POST", MESSAGES, 502, times=2)
    await thread.send("hello")
    assert world.fake.requests.statuses("POST", MESSAGES) == [502, 502, 200]
    assert len(world.fake.messages_in(thread.id)) == 1


async def test_503_is_not_retried_by_discord_py(
    world: World, client: discord.Client, sleeps: ScaledSleeps
) -> None:
    thread = await public_thread(client, world)
    world.fake.faults.fail_next("POST", MESSAGES, 503)
    with pytest.raises(discord.DiscordServerError):
        await thread.send("hello")
    assert sleeps.waits == []


async def test_applied_then_failed_post_is_deduplicated_by_nonce(
    world: World, client: discord.Client, sleeps: ScaledSleeps
) -> None:
    thread = await public_thread(client, world)
    world.fake.faults.fail_next("POST", MESSAGES, 500, apply=True)
    sent = await thread.send("hello", nonce="run7-notify")
    assert world.fake.requests.statuses("POST", MESSAGES) == [500, 200]
    assert [m.id for m in world.fake.messages_in(thread.id)] == [sent.id]


async def test_applied_then_failed_post_without_nonce_duplicates(
    world: World, client: discord.Client, sleeps: ScaledSleeps
) -> None:
    thread = await public_thread(client, world)
    world.fake.faults.fail_next("POST", MESSAGES, 500, apply=True)
    await raw(client, "POST", MESSAGES, {"content": "hello"}, channel_id=thread.id)
    assert [m.content for m in world.fake.messages_in(thread.id)] == ["hello", "hello"]


async def test_injected_429_is_waited_out(world: World, client: discord.Client) -> None:
    thread = await public_thread(client, world)
    world.fake.faults.fail_next("POST", MESSAGES, 429, retry_after_s=0.01)
    await thread.send("hello")
    assert world.fake.requests.statuses("POST", MESSAGES) == [429, 200]


async def test_429_without_via_is_a_ban_to_discord_py(world: World, client: discord.Client) -> None:
    thread = await public_thread(client, world)
    world.fake.faults.fail_next("POST", MESSAGES, 429, cloudflare=True)
    with pytest.raises(discord.HTTPException) as caught:
        await thread.send("hello")
    assert caught.value.status == 429
    assert world.fake.requests.statuses("POST", MESSAGES) == [429]


def test_random_faults_follow_the_seed() -> None:
    def rolls(seed: int) -> list[int | None]:
        plan = FaultPlan(p5xx=0.3, p429=0.2, seed=seed)
        faults = [plan.draw("POST", "/channels/1/messages", MESSAGES) for _ in range(50)]
        return [None if f is None else f.status for f in faults]

    assert rolls(1) == rolls(1)
    assert rolls(1) != rolls(2)
    assert {s for s in rolls(1) if s is not None} <= {429, 500, 502, 503}


# -- control endpoints and the process ------------------------------------------------------------


async def test_state_clock_and_fault_control(world: World) -> None:
    base = world.fake.base_url
    async with aiohttp.ClientSession() as http:
        async with http.post(base + "/_fake/faults", json={"p5xx": 1.0, "seed": 3}) as response:
            assert (await response.json())["p5xx"] == 1.0
        me = world.fake.api_base + "/users/@me"
        async with http.get(me, headers={"Authorization": f"Bot {world.fake.token}"}) as response:
            assert response.status in (500, 502, 503)
        before = world.fake.now()
        async with http.post(base + "/_fake/clock", json={"advance_s": 600}) as response:
            assert (await response.json())["now"] >= before + 600
        async with http.get(base + "/_fake/state") as response:
            state = await response.json()
    assert state["faults"]["p5xx"] == 1.0
    assert state["requests"]["total"] == 1
    assert {c["id"] for c in state["channels"]} == {str(world.text.id), str(world.forum.id)}


@pytest.mark.slow
async def test_runs_as_its_own_process() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.discord_server",
        "--port",
        "0",
        "--p5xx",
        "0.1",
        "--seed",
        "1",
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        ready = json.loads(await asyncio.wait_for(process.stdout.readline(), timeout=20))
        async with aiohttp.ClientSession() as http, http.get(ready["state_url"]) as response:
            state = await response.json()
        assert state["faults"]["p5xx"] == 0.1
        assert ready["forum_channel_id"] in {c["id"] for c in state["channels"]}
        assert ready["api_base"].endswith("/api/v10")
    finally:
        process.terminate()
        await process.wait()
