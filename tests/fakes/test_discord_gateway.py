"""The fake gateway's handshake over a real websocket: HELLO, heartbeats, IDENTIFY, closes."""

from __future__ import annotations

import pytest

from tests.fakes.discord_gateway import FakeGateway
from tests.fakes.discord_models import Channel, Guild
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.discord_threads import create_thread
from tests.fakes.gateway_world import BOT, WITH_CONTENT, raw_client, ready_client

# -- handshake ---------------------------------------------------------------------------------


async def test_hello_then_heartbeats_are_acked(gw: FakeGateway) -> None:
    async with raw_client(gw) as client:
        hello = await client.recv()
        assert hello["op"] == 10 and hello["d"] == {"heartbeat_interval": 200}
        await client.send(1, None)
        assert (await client.recv())["op"] == 11
        await client.send(1, 7)
        assert (await client.recv())["op"] == 11
    assert gw.heartbeats == [None, 7]


async def test_stopping_heartbeats_closes_with_4009(gw: FakeGateway) -> None:
    async with raw_client(gw) as client:
        await client.recv()  # HELLO, and no heartbeat ever
        assert await client.closed_with(timeout_s=2.0) == 4009
    assert gw.closes == [4009]


async def test_heartbeat_acks_can_be_withheld(gw: FakeGateway) -> None:
    gw.faults.ack_heartbeats = False
    async with raw_client(gw) as client:
        await client.recv()
        await client.send(1, None)
        await client.send(2, {"token": gw.token, "intents": BOT})  # answered in order
        assert (await client.recv())["t"] == "READY"  # and no ACK before it
    assert gw.heartbeats == [None]


async def test_the_fake_can_ask_for_a_heartbeat(gw: FakeGateway) -> None:
    async with raw_client(gw) as client:
        await client.recv()
        gw.request_heartbeat()
        assert await client.recv() == {"op": 1, "d": None}


async def test_zlib_stream_sends_binary_frames_of_one_stream(gw: FakeGateway, guild: Guild) -> None:
    async with raw_client(gw, "v=10&encoding=json&compress=zlib-stream") as client:
        assert (await client.recv())["op"] == 10
        await ready_client(gw, client)
        await client.send(1, 2)
        assert (await client.recv())["op"] == 11
        assert client.binary_frames == 4  # HELLO, READY, GUILD_CREATE, ACK, one shared stream


async def test_frames_are_text_without_compress(gw: FakeGateway) -> None:
    async with raw_client(gw) as client:
        assert (await client.recv())["op"] == 10
        assert client.binary_frames == 0


async def test_ready_then_guild_create_with_channels_and_threads(
    gw: FakeGateway, rest: FakeDiscord, guild: Guild, channel: Channel
) -> None:
    thread = create_thread(rest.state, channel.id, {"name": "PR #1", "type": 11})
    async with raw_client(gw) as client:
        await client.recv()
        ready = await client.identify(gw.token, WITH_CONTENT)
        create = await client.recv_op(0)
    assert (ready["t"], ready["s"], create["t"], create["s"]) == ("READY", 1, "GUILD_CREATE", 2)
    data = ready["d"]
    assert data["user"]["id"] == str(rest.state.bot.id) and data["user"]["bot"] is True
    assert data["guilds"] == [{"id": str(guild.id), "unavailable": True}]
    assert data["resume_gateway_url"] == gw.resume_url and len(data["session_id"]) == 32
    assert data["application"] == {"id": str(rest.state.application_id), "flags": 1 << 19}
    assert [c["id"] for c in create["d"]["channels"]] == [str(channel.id)]
    assert [t["id"] for t in create["d"]["threads"]] == [thread["id"]]
    assert create["d"]["unavailable"] is False


@pytest.mark.parametrize(
    ("token", "wanted", "code"),
    [
        ("wrong-token", BOT, 4004),
        (None, 1 << 30, 4013),
    ],
)
async def test_identify_is_checked(
    gw: FakeGateway, token: str | None, wanted: int, code: int
) -> None:
    async with raw_client(gw) as client:
        await client.recv()
        await client.send(2, {"token": token or gw.token, "intents": wanted, "properties": {}})
        assert await client.closed_with() == code
    assert gw.sessions == {}


async def test_message_content_intent_not_enabled_closes_4014(rest: FakeDiscord) -> None:
    async with FakeGateway(state=rest.state, privileged_intents=0) as gw:
        async with raw_client(gw) as client:
            await client.recv()
            await client.send(2, {"token": gw.token, "intents": WITH_CONTENT})
            assert await client.closed_with() == 4014
        async with raw_client(gw) as client:  # the same app without the intent is welcome
            ready = await client.identify(gw.token, BOT)
            assert ready["d"]["application"]["flags"] == 0


@pytest.mark.parametrize(
    ("first", "then", "code"),
    [
        (None, (3, {"status": "online"}), 4003),
        ("identify", (2, None), 4005),
        ("identify", (42, None), 4001),
    ],
)
async def test_protocol_mistakes_close(
    gw: FakeGateway, first: str | None, then: tuple[int, object], code: int
) -> None:
    async with raw_client(gw) as client:
        await client.recv()
        if first:
            await ready_client(gw, client)
        await client.send(*then)
        assert await client.closed_with() == code


async def test_wrong_api_version_closes_4012(gw: FakeGateway) -> None:
    async with raw_client(gw, "v=6&encoding=json") as client:
        assert await client.closed_with() == 4012
