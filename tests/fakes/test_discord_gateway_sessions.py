"""The fake gateway's dispatches and sessions: message payloads, intents, RESUME, discord.py."""

from __future__ import annotations

import asyncio

import discord
import pytest

from tests.fakes import discord_gateway_payloads as intents
from tests.fakes.discord_gateway import FakeGateway
from tests.fakes.discord_models import Channel, Guild
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.gateway_world import BOT, eventually, raw_client, ready_client

# -- messages ----------------------------------------------------------------------------------


async def test_message_payloads_are_shaped_like_discords(
    gw: FakeGateway, guild: Guild, channel: Channel
) -> None:
    async with raw_client(gw) as client:
        await ready_client(gw, client)
        alice = gw.user("alice", global_name="Alice")
        first = gw.message_create(channel.id, "hi", author=alice, attachments=["https://x/a.png"])
        hook = gw.message_create(channel.id, "build", author=gw.webhook(), reference_id=1)
        create, webhook = await client.recv_op(0), await client.recv_op(0)
    assert (create["t"], create["s"], webhook["s"]) == ("MESSAGE_CREATE", 3, 4)
    data = create["d"]
    assert data == first and data["guild_id"] == str(guild.id) and "member" in data
    assert data["author"]["global_name"] == "Alice" and data["author"]["bot"] is False
    assert data["attachments"][0]["url"] == "https://x/a.png" and "webhook_id" not in data
    assert webhook["d"] == hook and "member" not in hook and hook["author"]["bot"] is True
    assert hook["webhook_id"] == hook["author"]["id"]
    assert hook["message_reference"]["message_id"] == "1"


async def test_update_and_delete_follow_the_message(gw: FakeGateway, channel: Channel) -> None:
    async with raw_client(gw) as client:
        await ready_client(gw, client)
        sent = gw.message_create(channel.id, "draft")
        gw.message_update(int(sent["id"]), "final")
        gw.message_delete(int(sent["id"]))
        frames = [await client.recv_op(0) for _ in range(3)]
    update, delete = frames[1], frames[2]
    assert update["t"] == "MESSAGE_UPDATE" and update["d"]["content"] == "final"
    assert update["d"]["edited_timestamp"] is not None and update["d"]["id"] == sent["id"]
    assert delete["t"] == "MESSAGE_DELETE"
    assert delete["d"] == {k: sent[k] for k in ("id", "channel_id", "guild_id")}


async def test_content_is_empty_without_the_intent(gw: FakeGateway, channel: Channel) -> None:
    async with raw_client(gw) as client:
        await ready_client(gw, client, BOT)
        gw.message_create(channel.id, "secret", attachments=["https://x/a.png"])
        gw.message_create(channel.id, "hey bot", mentions=[gw.me])
        plain, mention = await client.recv_op(0), await client.recv_op(0)
    assert plain["d"]["content"] == "" and plain["d"]["attachments"] == []
    assert mention["d"]["content"] == "hey bot"  # mentioning the app shows it content


async def test_no_message_events_without_guild_messages(gw: FakeGateway, channel: Channel) -> None:
    async with raw_client(gw) as client:
        await ready_client(gw, client, intents.GUILDS)
        gw.message_create(channel.id, "unseen")
        await client.send(1, None)
        assert (await client.recv())["op"] == 11  # the ACK, and no MESSAGE_CREATE before it


# -- resuming ----------------------------------------------------------------------------------


async def test_resume_replays_missed_dispatches_then_resumed(
    gw: FakeGateway, channel: Channel
) -> None:
    async with raw_client(gw) as client:
        session_id = await ready_client(gw, client)
        seen = gw.message_create(channel.id, "seen")
        assert (await client.recv_op(0))["s"] == 3
    await eventually(lambda: not gw.live)
    missed = [gw.message_create(channel.id, f"missed {i}") for i in range(2)]
    async with raw_client(gw, path="resume") as client:
        await client.recv()
        await client.send(6, {"token": gw.token, "session_id": session_id, "seq": 3})
        frames = [await client.recv_op(0) for _ in range(3)]
    assert [f["d"] for f in frames[:2]] == missed and seen not in [f["d"] for f in frames]
    expected = [("MESSAGE_CREATE", 4), ("MESSAGE_CREATE", 5), ("RESUMED", 6)]
    assert [(f["t"], f["s"]) for f in frames] == expected
    assert gw.connections[-1].path == "/resume" and len(gw.identifies) == 1


@pytest.mark.parametrize("case", ["unknown session", "seq from the future", "fault"])
async def test_bad_resume_is_invalid_session(gw: FakeGateway, case: str) -> None:
    async with raw_client(gw) as client:
        session_id = await ready_client(gw, client)
    gw.faults.reject_resume = case == "fault"
    resume = {"token": gw.token, "session_id": session_id, "seq": 1}
    if case == "unknown session":
        resume["session_id"] = "0" * 32
    if case == "seq from the future":
        resume["seq"] = 99
    async with raw_client(gw) as client:
        await client.recv()
        await client.send(6, resume)
        assert await client.recv_op(9) == {"op": 9, "d": False}


async def test_reconnect_and_invalidate_on_demand(gw: FakeGateway) -> None:
    async with raw_client(gw) as client:
        await ready_client(gw, client)
        gw.reconnect()
        assert (await client.recv_op(7))["d"] is None
        gw.invalidate(resumable=True)
        assert (await client.recv_op(9))["d"] is True


# -- discord.py ------------------------------------------------------------------------------


async def test_discord_py_connects_resumes_and_sees_each_message_once(
    rest: FakeDiscord, gw: FakeGateway, channel: Channel, discord_bases: None
) -> None:
    wanted = discord.Intents(guilds=True, guild_messages=True, message_content=False)
    client = discord.Client(intents=wanted, guild_ready_timeout=0.05)
    contents: list[str] = []

    async def on_message(message: discord.Message) -> None:
        contents.append(message.content)

    client.event(on_message)
    task = asyncio.create_task(client.start(rest.token))
    try:
        await asyncio.wait_for(client.wait_until_ready(), 5)
        assert client.get_channel(channel.id) is not None and client.user is not None
        assert gw.connections[0].query["compress"] == "zlib-stream"  # so zlib frames, inflated
        gw.message_create(channel.id, "before")
        await eventually(lambda: len(contents) == 1)
        gw.drop()
        gw.message_create(channel.id, "while away")
        await eventually(lambda: len(contents) == 2 and len(gw.resumes) == 1)
        await eventually(lambda: len(gw.heartbeats) >= 3)  # keeps beating on the new socket
        assert contents == ["", ""]  # no MESSAGE_CONTENT intent: empty content
        assert len(gw.identifies) == 1 and gw.identifies[0]["intents"] == wanted.value
        assert gw.resumes[0]["seq"] == 3 and gw.connections[-1].path == "/resume"
    finally:
        await client.close()
        await task
