"""A fake Discord gateway (websocket, API v10) on loopback that discord.py really connects to.

    async with FakeDiscord() as rest, FakeGateway(state=rest.state) as gw:
        guild = rest.add_guild()
        channel = rest.add_text_channel(guild.id)
        ...  # point discord.py at rest.api_base and gw.url, connect
        gw.message_create(channel.id, "hello", author=gw.user("alice"))

Handshake as Discord does it (https://discord.com/developers/docs/events/gateway): HELLO with the
heartbeat interval; heartbeats answered by ACKs, and a connection that stops heartbeating closed
with 4009; IDENTIFY checked for the token (4004) and for privileged intents the app has not
switched on (4014), answered by READY (guilds as unavailable stubs) and one GUILD_CREATE per
guild; dispatches numbered by ``s`` per session; RESUME replays what the client missed, then
RESUMED, or INVALID_SESSION (op 9) when the session cannot be resumed. Frames go out as one
zlib stream in binary frames when the URL asks ``compress=zlib-stream`` (discord.py does), else as
JSON text. Everything clients send is recorded: ``identifies``, ``resumes``, ``heartbeats``,
``connections`` (path, query, frames) and the ``closes`` the fake sent.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import WSMsgType, web

from tests.fakes import discord_gateway_payloads as payloads
from tests.fakes.discord_clock import FakeClock, iso
from tests.fakes.discord_gateway_ops import GatewayOps
from tests.fakes.discord_gateway_payloads import Author, MessageSpec
from tests.fakes.discord_gateway_session import (
    DECODE_ERROR,
    HELLO,
    INVALID_API_VERSION,
    INVALID_SESSION,
    RECONNECT,
    Connection,
    ConnectionRecord,
    parse_frame,
)
from tests.fakes.discord_models import JSONObject
from tests.fakes.discord_state import DiscordState
from tests.fakes.http_fake import LoopbackServer


@dataclass
class GatewayFaults:
    """Misbehaviour to inject; change it in place during a test."""

    ack_heartbeats: bool = True
    reject_resume: bool = False  # answer every RESUME with INVALID_SESSION (op 9, d=false)


class FakeGateway(GatewayOps, LoopbackServer):
    """A fake Discord gateway server; shares ``state`` (bot, guilds, channels) with FakeDiscord."""

    scheme = "ws"

    def __init__(
        self,
        *,
        state: DiscordState | None = None,
        token: str = "fake-bot-token",
        host: str = "127.0.0.1",
        port: int = 0,
        heartbeat_interval_ms: int = 41_250,
        heartbeat_timeout_factor: float = 2.0,
        privileged_intents: int = payloads.MESSAGE_CONTENT,
        faults: GatewayFaults | None = None,
    ) -> None:
        GatewayOps.__init__(self, state or DiscordState(FakeClock()), token)
        LoopbackServer.__init__(self, host=host, port=port)
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.heartbeat_timeout_factor = heartbeat_timeout_factor
        self.privileged_intents = privileged_intents
        self.faults = faults or GatewayFaults()
        self._names = itertools.count(1)
        self._messages: dict[int, JSONObject] = {}

    # -- lifecycle -----------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        """Serve the gateway at ``/`` and ``/resume``."""
        app = web.Application()
        app.router.add_get("/", self._handle)
        app.router.add_get("/resume", self._handle)
        return app

    async def stop(self) -> None:
        """Close every connection and stop serving."""
        for conn in list(self.live):
            conn.drop()
        await super().stop()

    @property
    def url(self) -> str:
        """The gateway URL to connect to (``DISCORD_GATEWAY_URL``)."""
        return self.base_url + "/"

    @property
    def resume_url(self) -> str:
        """The ``resume_gateway_url`` READY hands out."""
        return self.url + "resume"

    # -- the connection ------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=4096 * 1024)
        await ws.prepare(request)
        record = ConnectionRecord(request.path, dict(request.query))
        self.connections.append(record)
        conn = Connection(ws, request, record)
        self.live.add(conn)
        watchdog = self.watch_heartbeats(conn)
        try:
            if record.query.get("v") != "10":
                conn.close(INVALID_API_VERSION)
            elif record.query.get("encoding", "json") != "json":
                conn.close(DECODE_ERROR)  # the fake speaks JSON only, not ETF
            else:
                conn.push({"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
            async for msg in ws:
                frame = parse_frame(msg.data) if msg.type is WSMsgType.TEXT else None
                if frame is None:
                    conn.close(DECODE_ERROR)
                    continue
                record.frames.append(frame)
                self.frames.append(frame)
                self.receive(conn, frame)
        finally:
            watchdog.cancel()
            self.live.discard(conn)
            if conn.session is not None and conn.session.connection is conn:
                conn.session.connection = None
            await conn.stop()
        return ws

    # -- faults on demand ----------------------------------------------------------------------

    def drop(self) -> int:
        """Cut every live connection without a close frame; return how many were cut."""
        conns = list(self.live)
        for conn in conns:
            conn.drop()
            self.live.discard(conn)
            if conn.session is not None and conn.session.connection is conn:
                conn.session.connection = None
        return len(conns)

    def reconnect(self) -> None:
        """Send op 7 RECONNECT on every live connection (the client should resume)."""
        for conn in self.live:
            conn.push({"op": RECONNECT, "d": None})

    def invalidate(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION on every live connection."""
        for conn in self.live:
            if conn.session is not None and not resumable:
                conn.session.resumable = False
            conn.push({"op": INVALID_SESSION, "d": resumable})

    def close_all(self, code: int) -> None:
        """Close every live connection with ``code``."""
        for conn in list(self.live):
            conn.close(code)

    # -- test helpers: people and messages -----------------------------------------------------

    def user(self, username: str | None = None, *, global_name: str | None = None) -> Author:
        """Return a new human user."""
        name = username or f"user{next(self._names)}"
        return Author(self.state.ids.next(), name, global_name)

    def bot_user(self, username: str = "other-bot") -> Author:
        """Return a new bot user (another app, not prbot)."""
        return Author(self.state.ids.next(), username, bot=True)

    def webhook(self, name: str = "GitHub") -> Author:
        """Return a webhook author (its id is the webhook's id)."""
        return Author(self.state.ids.next(), name, webhook=True)

    @property
    def me(self) -> Author:
        """The bot the clients log in as."""
        bot = self.state.bot
        return Author(bot.id, bot.username, bot=True)

    def message_create(
        self,
        channel_id: int,
        content: str = "",
        *,
        author: Author | None = None,
        type: int = 0,
        reference_id: int | None = None,
        mentions: Sequence[Author] = (),
        attachments: Sequence[str] = (),
    ) -> JSONObject:
        """Dispatch MESSAGE_CREATE to every session; return the full payload."""
        spec = MessageSpec(
            channel_id,
            content,
            author or self.user(),
            type,
            reference_id,
            tuple(mentions),
            tuple(attachments),
        )
        data = payloads.message(self.state, self.state.ids.next(), spec)
        self._messages[int(data["id"])] = data
        self.dispatch("MESSAGE_CREATE", data)
        return data

    def message_update(self, message_id: int, content: str) -> JSONObject:
        """Edit a dispatched message and dispatch MESSAGE_UPDATE (the full message, as in v10)."""
        data = {
            **self._messages[message_id],
            "content": content,
            "edited_timestamp": iso(self.state.clock.now()),
        }
        self._messages[message_id] = data
        self.dispatch("MESSAGE_UPDATE", data)
        return data

    def message_delete(self, message_id: int) -> JSONObject:
        """Dispatch MESSAGE_DELETE (id, channel_id, guild_id) for a dispatched message."""
        message = self._messages.pop(message_id)
        data = {"id": message["id"], "channel_id": message["channel_id"]}
        if "guild_id" in message:
            data["guild_id"] = message["guild_id"]
        self.dispatch("MESSAGE_DELETE", data)
        return data

    def dispatch(self, event: str, data: JSONObject) -> None:
        """Number and send an event to every session that may see it, live or not (for replay)."""
        for session in self.sessions.values():
            if session.resumable:
                self.send_dispatch(session, event, data)
