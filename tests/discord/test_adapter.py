"""The REST adapter against the fake Discord over real HTTP: payloads, limits, error translation."""

from __future__ import annotations

import pytest

from bot.discord import (
    THREAD_ARCHIVED,
    UNKNOWN_CHANNEL,
    DiscordApiError,
    EmbedField,
    EmbedSpec,
    OutMessage,
    ThreadEdit,
)
from bot.discord.rest import DiscordRestAdapter
from bot.runtime import RetriableError, RetryAfterError
from tests.discord.world import FakeTimeSleeps, World

MESSAGES = "/channels/*/messages"


async def test_channel_kind_guild_and_tags(world: World, adapter: DiscordRestAdapter) -> None:
    text = await adapter.channel(world.text.id)
    forum = await adapter.channel(world.forum.id)
    assert (text.forum, text.guild_id) == (False, world.guild.id)
    assert forum.forum
    assert set(forum.tags) == {"open", "draft", "approved", "changes requested", "merged", "closed"}
    before = world.fake.requests.to_json()
    await adapter.channel(world.text.id)  # cached: no second request
    assert world.fake.requests.to_json() == before


async def test_thread_is_public_with_the_archive_setting(
    world: World, adapter: DiscordRestAdapter
) -> None:
    thread = await adapter.create_thread(world.text.id, "#1 Title", 10080)
    (made,) = world.fake.threads_in(world.text.id)
    assert (made.id, made.type, made.auto_archive_duration) == (thread.id, 11, 10080)
    assert thread.name == "#1 Title" and thread.parent_id == world.text.id


async def test_send_with_nonce_is_posted_once(world: World, adapter: DiscordRestAdapter) -> None:
    thread = await adapter.create_thread(world.text.id, "#1 T", 1440)
    embed = EmbedSpec("t", "https://x.test/1", "d", "me", (EmbedField("f", "v", True),), 1)
    message = OutMessage("hello @everyone @here <@&5> <@77> <@88>", (embed,), (77,))
    first = await adapter.send(thread.id, message, "nonce-1")
    second = await adapter.send(thread.id, message, "nonce-1")
    assert first == second
    (posted,) = world.fake.messages_in(thread.id)
    assert posted.nonce == "nonce-1" and posted.enforce_nonce
    assert posted.allowed_mentions == {"parse": [], "users": [77]}
    assert not posted.pings.everyone and posted.pings.roles == ()
    assert posted.pings.users == (77,)
    assert posted.embeds[0]["title"] == "t"


async def test_nobody_is_pinged_without_mapped_users(
    world: World, adapter: DiscordRestAdapter
) -> None:
    thread = await adapter.create_thread(world.text.id, "#1 T", 1440)
    await adapter.send(thread.id, OutMessage("@everyone <@77>"), "n")
    (posted,) = world.fake.messages_in(thread.id)
    assert not posted.pings.anyone


async def test_forum_post_with_tags(world: World, adapter: DiscordRestAdapter) -> None:
    forum = await adapter.channel(world.forum.id)
    tags = [forum.tags["open"], forum.tags["approved"]]
    post = await adapter.create_forum_post(world.forum.id, "#2 F", OutMessage("intro"), 4320, tags)
    assert post.applied_tags == tuple(tags)
    (made,) = world.fake.threads_in(world.forum.id)
    assert made.applied_tags == tags
    assert [m.content for m in world.fake.messages_in(post.id)] == ["intro"]
    edited = await adapter.edit_thread(post.id, ThreadEdit(applied_tags=(forum.tags["merged"],)))
    assert edited.applied_tags == (forum.tags["merged"],)


async def test_archive_lock_and_the_archived_rule(
    world: World, adapter: DiscordRestAdapter
) -> None:
    thread = await adapter.create_thread(world.text.id, "#3 A", 1440)
    archived = await adapter.edit_thread(thread.id, ThreadEdit(archived=True, locked=True))
    assert archived.archived and archived.locked
    with pytest.raises(DiscordApiError) as refused:
        await adapter.edit_thread(thread.id, ThreadEdit(name="#3 B"))
    assert refused.value.code == THREAD_ARCHIVED and refused.value.status == 400
    back = await adapter.edit_thread(thread.id, ThreadEdit(name="#3 B", archived=False))
    assert not back.archived and back.name == "#3 B"


async def test_lists_active_and_archived_threads(world: World, adapter: DiscordRestAdapter) -> None:
    text = await adapter.channel(world.text.id)
    live = await adapter.create_thread(world.text.id, "#4 live", 1440)
    old = await adapter.create_thread(world.text.id, "#5 old", 1440)
    await adapter.create_thread(world.alerts.id, "#6 elsewhere", 1440)
    await adapter.edit_thread(old.id, ThreadEdit(archived=True))
    assert [t.id for t in await adapter.active_threads(text)] == [live.id]
    archived = await adapter.archived_threads(world.text.id, 5)
    assert [(t.id, t.archived) for t in archived] == [(old.id, True)]


async def test_third_rename_reschedules_for_ten_minutes(
    world: World, adapter: DiscordRestAdapter
) -> None:
    thread = await adapter.create_thread(world.text.id, "#7 a", 1440)
    await adapter.edit_thread(thread.id, ThreadEdit(name="#7 b"))
    await adapter.edit_thread(thread.id, ThreadEdit(name="#7 c"))
    with pytest.raises(RetryAfterError) as limited:
        await adapter.edit_thread(thread.id, ThreadEdit(name="#7 d"))
    assert 590 <= limited.value.seconds <= 600
    world.fake.advance(limited.value.seconds)
    renamed = await adapter.edit_thread(thread.id, ThreadEdit(name="#7 d"))
    assert renamed.name == "#7 d"


async def test_long_429_becomes_retry_after(world: World, adapter: DiscordRestAdapter) -> None:
    thread = await adapter.create_thread(world.text.id, "#8", 1440)
    world.fake.faults.fail_next("POST", MESSAGES, 429, retry_after_s=120)
    with pytest.raises(RetryAfterError) as limited:
        await adapter.send(thread.id, OutMessage("x"), "n")
    assert limited.value.seconds == pytest.approx(120)
    assert world.fake.messages_in(thread.id) == []


async def test_short_429_is_waited_out(world: World, adapter: DiscordRestAdapter) -> None:
    thread = await adapter.create_thread(world.text.id, "#9", 1440)
    world.fake.faults.fail_next("POST", MESSAGES, 429, retry_after_s=0.01)
    await adapter.send(thread.id, OutMessage("x"), "n")
    assert len(world.fake.messages_in(thread.id)) == 1


async def test_cloudflare_429_becomes_retry_after(
    world: World, adapter: DiscordRestAdapter
) -> None:
    thread = await adapter.create_thread(world.text.id, "#10", 1440)
    world.fake.faults.fail_next("POST", MESSAGES, 429, cloudflare=True)
    with pytest.raises(RetryAfterError):
        await adapter.send(thread.id, OutMessage("x"), "n")


async def test_503_is_retriable(world: World, adapter: DiscordRestAdapter) -> None:
    thread = await adapter.create_thread(world.text.id, "#11", 1440)
    world.fake.faults.fail_next("POST", MESSAGES, 503)
    with pytest.raises(RetriableError):
        await adapter.send(thread.id, OutMessage("x"), "n")


async def test_500_after_applying_is_not_repeated_in_process(
    world: World, adapter: DiscordRestAdapter, fast_sleeps: FakeTimeSleeps
) -> None:
    thread = await adapter.create_thread(world.text.id, "#12", 1440)
    # discord.py would repeat a 500 itself after 1 s: past a short nonce window, a double.
    # The door stops at the first answer; the step retries later and looks before it posts.
    world.fake.faults.fail_next("POST", MESSAGES, 500, apply=True)
    with pytest.raises(RetriableError, match="may have been carried out"):
        await adapter.send(thread.id, OutMessage("x"), "n")
    assert len(world.fake.messages_in(thread.id)) == 1
    assert world.fake.requests.statuses("POST", "/channels/{channel_id}/messages") == [500]
    assert [d for d in fast_sleeps.delays if d >= 1] == []


async def test_unknown_channel_is_a_visible_failure(
    world: World, adapter: DiscordRestAdapter
) -> None:
    with pytest.raises(DiscordApiError) as missing:
        await adapter.send(424242, OutMessage("x"), "n")
    assert (missing.value.status, missing.value.code) == (404, UNKNOWN_CHANNEL)
    assert not missing.value.retriable


async def test_too_long_content_is_rejected_with_its_code(
    world: World, adapter: DiscordRestAdapter
) -> None:
    thread = await adapter.create_thread(world.text.id, "#13", 1440)
    with pytest.raises(DiscordApiError) as refused:
        await adapter.send(thread.id, OutMessage("x" * 2001), "n")
    assert refused.value.code == 50035


async def test_network_error_is_retriable(world: World, adapter: DiscordRestAdapter) -> None:
    thread = await adapter.create_thread(world.text.id, "#14", 1440)
    await world.fake.stop()
    with pytest.raises(RetriableError):
        await adapter.send(thread.id, OutMessage("x"), "n")


async def test_bad_token_fails_login(world: World) -> None:
    with pytest.raises(DiscordApiError) as refused:
        await DiscordRestAdapter.login("wrong", api_base=world.fake.api_base)
    assert refused.value.status == 401
    assert "wrong" not in str(refused.value)


async def test_calls_are_told_to_the_recorder(world: World, fast_sleeps: FakeTimeSleeps) -> None:
    calls: list[tuple[str, int]] = []
    adapter = await DiscordRestAdapter.login(
        world.fake.token, world.fake.api_base, sleep=fast_sleeps.sleep,
        recorder=lambda route, status: calls.append((route, status)),
    )  # fmt: skip
    try:
        await adapter.create_thread(world.text.id, "#15", 1440)
        await world.fake.stop()
        with pytest.raises(RetriableError):
            await adapter.channel(world.forum.id)
    finally:
        await adapter.close()
    assert calls == [
        ("GET /users/@me", 200),  # the login
        ("POST /channels/{id}/threads", 200),
        ("GET /channels/{id}", 0),  # no answer
    ]
