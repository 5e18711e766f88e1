"""A world for testing the fake gateway: the fakes, a hand-driven client, a poll helper."""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from bot.discord.http import use_discord_gateway, use_discord_http
from tests.fakes import discord_gateway_payloads as intents
from tests.fakes.discord_gateway import FakeGateway
from tests.fakes.discord_models import Channel, Guild, JSONObject
from tests.fakes.discord_server import FakeDiscord

SYNC_FLUSH = b"\x00\x00\xff\xff"
BOT = intents.GUILDS | intents.GUILD_MESSAGES
WITH_CONTENT = BOT | intents.MESSAGE_CONTENT


async def eventually(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Poll ``check`` until it holds; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


class RawClient:
    """One websocket to the fake: send JSON frames, read frames (inflating zlib-stream)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.binary_frames = 0
        self._inflate = zlib.decompressobj()

    async def send(self, op: int, d: Any) -> None:
        """Send one frame."""
        await self.ws.send_str(json.dumps({"op": op, "d": d}))

    async def recv(self, timeout_s: float = 5.0) -> JSONObject:
        """Return the next frame; fail on a close."""
        msg = await self.ws.receive(timeout=timeout_s)
        if msg.type is aiohttp.WSMsgType.BINARY:
            assert msg.data.endswith(SYNC_FLUSH), "a zlib-stream frame ends in Z_SYNC_FLUSH"
            self.binary_frames += 1
            frame: JSONObject = json.loads(self._inflate.decompress(msg.data))
            return frame
        assert msg.type is aiohttp.WSMsgType.TEXT, f"expected a frame, got {msg.type!r}"
        text_frame: JSONObject = json.loads(msg.data)
        return text_frame

    async def recv_op(self, op: int, timeout_s: float = 5.0) -> JSONObject:
        """Return the next frame with ``op``, skipping others (such as heartbeat ACKs)."""
        while True:
            frame = await self.recv(timeout_s)
            if frame["op"] == op:
                return frame

    async def closed_with(self, timeout_s: float = 5.0) -> int | None:
        """Read until the fake closes; return its close code."""
        while True:
            msg = await self.ws.receive(timeout=timeout_s)
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                return self.ws.close_code

    async def identify(self, token: str, intents: int) -> JSONObject:
        """Send IDENTIFY and return the READY dispatch."""
        await self.send(2, {"token": token, "intents": intents, "properties": {}})
        return await self.recv_op(0)


@asynccontextmanager
async def raw_client(
    gw: FakeGateway, query: str = "v=10&encoding=json", path: str = ""
) -> AsyncIterator[RawClient]:
    """Connect to the fake gateway without discord.py."""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(f"{gw.url}{path}?{query}", autoclose=False) as ws,
    ):
        yield RawClient(ws)


@pytest.fixture
async def rest() -> AsyncIterator[FakeDiscord]:
    """Yield the fake REST API (the gateway shares its state)."""
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
def guild(rest: FakeDiscord) -> Guild:
    """Seed a guild."""
    return rest.add_guild()


@pytest.fixture
def channel(rest: FakeDiscord, guild: Guild) -> Channel:
    """Seed a text channel."""
    return rest.add_text_channel(guild.id)


@pytest.fixture
async def gw(rest: FakeDiscord) -> AsyncIterator[FakeGateway]:
    """Yield a started fake gateway with a 200 ms heartbeat interval."""
    async with FakeGateway(state=rest.state, heartbeat_interval_ms=200) as server:
        yield server


async def ready_client(gw: FakeGateway, client: RawClient, wanted: int = WITH_CONTENT) -> str:
    """Identify and read READY and the GUILD_CREATEs; return the session id."""
    ready = await client.identify(gw.token, wanted)
    for _ in gw.state.guilds:
        assert (await client.recv_op(0))["t"] == "GUILD_CREATE"
    session_id: str = ready["d"]["session_id"]
    return session_id


@pytest.fixture
def discord_bases(rest: FakeDiscord, gw: FakeGateway) -> Iterator[None]:
    """Point discord.py at the fakes (its REST base and default gateway), as prbot's door does."""
    use_discord_http(rest.api_base)
    use_discord_gateway(gw.url)
    yield
