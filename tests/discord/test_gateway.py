"""The gateway door, driven by real discord.py over real websockets against the fake gateway."""

from __future__ import annotations

import asyncio

import discord.http
import pytest
from discord.gateway import DiscordWebSocket

from bot.discord.gateway import (
    IDENTIFY_WAIT_S,
    DeletedMessage,
    Gateway,
    GatewayError,
    InvalidTokenError,
    MessageContentIntentError,
    ReceivedMessage,
)
from bot.discord.http import DEFAULT_GATEWAY_URL
from bot.runtime import NonRetriableError
from tests.discord.gateway_world import TIMEOUT_S, Fakes, Inbox, connected, door, until
from tests.fakes.discord_threads import create_thread

# -- connecting --------------------------------------------------------------------------------


async def test_connects_with_intents_and_heartbeats_are_acked(fakes: Fakes) -> None:
    async with connected(fakes, door(fakes, Inbox())) as gateway:
        assert gateway.user_id == fakes.rest.state.bot.id
        await until(lambda: len(fakes.gw.heartbeats) >= 3)
        assert gateway.latency_s < 1.0  # a measured round trip: ACKs came back
        assert gateway.connected
    assert not gateway.connected
    (identify,) = fakes.gw.identifies
    assert identify["intents"] == (1 << 0) | (1 << 9) | (1 << 15)
    assert identify["token"] == fakes.rest.token
    assert fakes.gw.closes == [] and fakes.gw.resumes == []  # never timed out
    # Login is GET /users/@me and GET /oauth2/applications/@me; a plain Client never asks
    # GET /gateway/bot, so the gateway URL can only come from DiscordWebSocket.DEFAULT_GATEWAY.
    assert fakes.rest.requests.count() == 2
    assert fakes.rest.requests.count("GET", "/users/@me", 200) == 1


async def test_messages_reach_the_callbacks_in_the_door_shapes(fakes: Fakes) -> None:
    gw, inbox = fakes.gw, Inbox()
    alice, bob = gw.user("alice", global_name="Alice"), gw.user("bob")
    async with connected(fakes, door(fakes, inbox)):
        first = gw.message_create(fakes.channel.id, "PR ready?", author=alice)
        reply = gw.message_create(
            fakes.thread_id,
            "looks good",
            author=bob,
            reference_id=int(first["id"]),
            mentions=[alice],
            attachments=["https://cdn.example/shot.png"],
        )
        gw.message_update(int(reply["id"]), "looks good now")
        gw.message_delete(int(first["id"]))
        await until(lambda: len(inbox.order) == 4)
    assert inbox.order == [
        "created PR ready?",
        "created looks good",
        "updated looks good now",
        f"deleted {first['id']}",
    ]
    created = inbox.created[1]
    assert created == ReceivedMessage(
        id=int(reply["id"]),
        channel_id=fakes.thread_id,
        guild_id=fakes.guild.id,
        author_id=bob.id,
        author_name="bob",
        author_bot=False,
        webhook_id=None,
        system=False,
        content="looks good",
        attachment_urls=("https://cdn.example/shot.png",),
        reference_id=int(first["id"]),
        mention_ids=(alice.id,),
        edited_at=None,
    )
    assert inbox.created[0].author_name == "Alice"  # the global (display) name
    edited = inbox.updated[0]
    assert edited.id == created.id and edited.content == "looks good now"
    assert edited.edited_at is not None and edited.edited_at.isoformat().startswith("20")
    assert inbox.deleted == [DeletedMessage(int(first["id"]), fakes.channel.id, fakes.guild.id)]


async def test_messages_in_a_thread_discord_py_never_saw_keep_their_ids(fakes: Fakes) -> None:
    inbox = Inbox()
    async with connected(fakes, door(fakes, inbox)):
        late = create_thread(fakes.rest.state, fakes.channel.id, {"name": "PR #2", "type": 11})
        sent = fakes.gw.message_create(int(late["id"]), "in a new thread")  # no THREAD_CREATE
        fakes.gw.message_update(int(sent["id"]), "edited")
        await until(lambda: len(inbox.updated) == 1)
    (created,), (edited,) = inbox.created, inbox.updated
    assert (created.channel_id, created.guild_id) == (int(late["id"]), fakes.guild.id)
    assert (edited.channel_id, edited.guild_id, edited.content) == (
        int(late["id"]),
        fakes.guild.id,
        "edited",
    )


async def test_bots_webhooks_and_system_messages_are_flagged(fakes: Fakes) -> None:
    gw, inbox = fakes.gw, Inbox()
    hook = gw.webhook("GitHub")
    async with connected(fakes, door(fakes, inbox)):
        gw.message_create(fakes.channel.id, "from a bot", author=gw.bot_user())
        gw.message_create(fakes.channel.id, "from a webhook", author=hook)
        gw.message_create(fakes.channel.id, "", type=7)  # a member joined
        gw.message_create(fakes.channel.id, "mine", author=gw.me)
        await until(lambda: len(inbox.created) == 4)
    bot, webhook, joined, mine = inbox.created
    assert (bot.author_bot, bot.webhook_id, bot.system) == (True, None, False)
    assert (webhook.author_bot, webhook.webhook_id, webhook.author_name) == (
        True,
        hook.id,
        "GitHub",
    )
    assert (joined.system, joined.author_bot) == (True, False)
    assert mine.author_id == fakes.rest.state.bot.id


# -- staying connected -------------------------------------------------------------------------


async def test_dropped_connection_resumes_and_replays_missed_messages_once(fakes: Fakes) -> None:
    gw, inbox = fakes.gw, Inbox()
    async with connected(fakes, door(fakes, inbox)):
        gw.message_create(fakes.channel.id, "before")
        await until(lambda: len(inbox.created) == 1)
        assert gw.drop() == 1
        gw.message_create(fakes.channel.id, "missed 1")
        gw.message_create(fakes.channel.id, "missed 2")
        await until(lambda: len(gw.resumes) == 1 and len(inbox.created) == 3)
        gw.message_create(fakes.channel.id, "after")
        await until(lambda: len(inbox.created) == 4)
    assert [m.content for m in inbox.created] == ["before", "missed 1", "missed 2", "after"]
    assert len(gw.identifies) == 1 and inbox.sleeps == []
    (resume,) = gw.resumes
    assert resume["session_id"] == next(iter(gw.sessions)) and resume["seq"] == 3
    assert gw.connections[1].path == "/resume"  # resume_gateway_url from READY


async def test_reconnect_op_7_resumes_the_session(fakes: Fakes) -> None:
    gw, inbox = fakes.gw, Inbox()
    async with connected(fakes, door(fakes, inbox)):
        gw.reconnect()
        await until(lambda: len(gw.resumes) == 1 and len(gw.live) == 1)
        gw.message_create(fakes.channel.id, "after reconnect")
        await until(lambda: len(inbox.created) == 1)
    assert len(gw.identifies) == 1 and len(gw.connections) == 2


async def test_refused_resume_identifies_again_after_the_identify_wait(fakes: Fakes) -> None:
    gw, inbox = fakes.gw, Inbox()
    gw.faults.reject_resume = True
    async with connected(fakes, door(fakes, inbox)):
        gw.drop()
        gw.message_create(fakes.channel.id, "lost with the old session")
        await until(lambda: len(gw.identifies) == 2)
        await until(lambda: len(gw.live) == 1 and len(gw.sessions) == 2)
        gw.message_create(fakes.channel.id, "new session")
        await until(lambda: len(inbox.created) == 1)
    assert [m.content for m in inbox.created] == ["new session"]
    assert inbox.sleeps == [IDENTIFY_WAIT_S]  # Discord's identify limit, on the injected sleep


async def test_a_failing_callback_is_logged_and_later_messages_still_arrive(
    fakes: Fakes, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    async def flaky(message: ReceivedMessage) -> None:
        seen.append(message.content)
        if message.content == "boom":
            raise RuntimeError("store unavailable")

    async with connected(fakes, door(fakes, Inbox(), on_created=flaky)):
        fakes.gw.message_create(fakes.channel.id, "boom")
        fakes.gw.message_create(fakes.channel.id, "fine")
        await until(lambda: seen == ["boom", "fine"])
    assert "callback failed" in caplog.text and "store unavailable" in caplog.text


# -- refusals ----------------------------------------------------------------------------------


async def test_message_content_intent_not_enabled_is_a_clear_error(fakes: Fakes) -> None:
    fakes.gw.privileged_intents = 0
    with pytest.raises(MessageContentIntentError) as caught:
        await asyncio.wait_for(door(fakes, Inbox()).run(), TIMEOUT_S)
    assert caught.value.code == 4014 and isinstance(caught.value, NonRetriableError)
    assert "MESSAGE CONTENT INTENT" in str(caught.value) and "Developer Portal" in str(caught.value)
    assert fakes.gw.closes == [4014]


async def test_token_rejected_by_the_gateway_is_a_clear_error(fakes: Fakes) -> None:
    fakes.gw.token = "another-token"  # REST still accepts the token; the gateway does not
    with pytest.raises(InvalidTokenError) as caught:
        await asyncio.wait_for(door(fakes, Inbox()).run(), TIMEOUT_S)
    assert caught.value.code == 4004 and fakes.gw.closes == [4004]
    assert fakes.rest.token not in str(caught.value)


async def test_token_rejected_at_login_never_opens_the_gateway(fakes: Fakes) -> None:
    gateway = Gateway(
        "wrong-token",
        api_base=fakes.rest.api_base,
        gateway_url=None,
        on_created=Inbox().on_created,
        on_updated=Inbox().on_updated,
        on_deleted=Inbox().on_deleted,
    )
    with pytest.raises(InvalidTokenError) as caught:
        await asyncio.wait_for(gateway.run(), TIMEOUT_S)
    assert isinstance(caught.value, GatewayError) and "wrong-token" not in str(caught.value)
    assert fakes.gw.connections == []
    assert str(DiscordWebSocket.DEFAULT_GATEWAY) == DEFAULT_GATEWAY_URL  # None: Discord's own
    assert fakes.rest.api_base == discord.http.Route.BASE
