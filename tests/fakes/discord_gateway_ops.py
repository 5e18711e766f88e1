"""What the fake gateway does with each frame a client sends, and what it records.

https://discord.com/developers/docs/events/gateway-events#send-events: heartbeat (op 1) is
answered with an ACK (op 11); IDENTIFY (op 2) opens a session; RESUME (op 6) replays the missed
dispatches then RESUMED; anything but heartbeat, identify and resume before identifying is 4003.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import TYPE_CHECKING, Any

from tests.fakes import discord_gateway_payloads as payloads
from tests.fakes.discord_gateway_session import (
    ALREADY_AUTHENTICATED,
    AUTHENTICATION_FAILED,
    DISALLOWED_INTENTS,
    HEARTBEAT,
    HEARTBEAT_ACK,
    IDENTIFY,
    INVALID_INTENTS,
    INVALID_SESSION,
    NOT_AUTHENTICATED,
    PRESENCE_UPDATE,
    REQUEST_GUILD_MEMBERS,
    RESUME,
    SESSION_TIMED_OUT,
    UNKNOWN_OPCODE,
    VOICE_STATE_UPDATE,
    Connection,
    ConnectionRecord,
    Session,
)
from tests.fakes.discord_models import JSONObject
from tests.fakes.discord_state import DiscordState

if TYPE_CHECKING:
    from tests.fakes.discord_gateway import GatewayFaults

SESSION_OPS = (PRESENCE_UPDATE, VOICE_STATE_UPDATE, REQUEST_GUILD_MEMBERS)


class GatewayOps:
    """The gateway protocol, one frame at a time; `FakeGateway` adds the server around it."""

    heartbeat_interval_ms: int
    heartbeat_timeout_factor: float
    privileged_intents: int
    faults: GatewayFaults

    def __init__(self, state: DiscordState, token: str) -> None:
        self.state = state
        self.token = token
        self.sessions: dict[str, Session] = {}
        self.live: set[Connection] = set()
        self.connections: list[ConnectionRecord] = []
        self.frames: list[JSONObject] = []

    @property
    def resume_url(self) -> str:
        """The ``resume_gateway_url`` READY hands out."""
        raise NotImplementedError

    def new_session(self, intents: int) -> Session:
        """Open a session with a fresh id."""
        session = Session(secrets.token_hex(16), intents)
        self.sessions[session.id] = session
        return session

    # -- what clients sent ---------------------------------------------------------------------

    def sent(self, op: int) -> list[Any]:
        """Return the ``d`` of every frame with ``op`` that clients sent, in order."""
        return [frame.get("d") for frame in self.frames if frame["op"] == op]

    @property
    def identifies(self) -> list[JSONObject]:
        """Every IDENTIFY payload received."""
        return self.sent(IDENTIFY)

    @property
    def resumes(self) -> list[JSONObject]:
        """Every RESUME payload received."""
        return self.sent(RESUME)

    @property
    def heartbeats(self) -> list[int | None]:
        """The sequence number each heartbeat carried."""
        return self.sent(HEARTBEAT)

    @property
    def closes(self) -> list[int]:
        """The close codes the fake sent, in order."""
        return [c.closed_by_fake for c in self.connections if c.closed_by_fake is not None]

    # -- frames --------------------------------------------------------------------------------

    def receive(self, conn: Connection, frame: JSONObject) -> None:
        """Act on one client frame."""
        op, data = frame["op"], frame.get("d")
        if op == HEARTBEAT:
            conn.last_heartbeat = time.monotonic()
            if self.faults.ack_heartbeats:
                conn.push({"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            self._identify(conn, data if isinstance(data, dict) else {})
        elif op == RESUME:
            self._resume(conn, data if isinstance(data, dict) else {})
        elif op in SESSION_OPS:
            if conn.session is None:
                conn.close(NOT_AUTHENTICATED)
        else:
            conn.close(UNKNOWN_OPCODE)

    def request_heartbeat(self) -> None:
        """Ask every live connection for an immediate heartbeat (op 1 from the server)."""
        for conn in self.live:
            conn.push({"op": HEARTBEAT, "d": None})

    def _identify(self, conn: Connection, data: JSONObject) -> None:
        if conn.session is not None:
            conn.close(ALREADY_AUTHENTICATED)
            return
        if data.get("token") != self.token:
            conn.close(AUTHENTICATION_FAILED)
            return
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0 or intents & ~payloads.ALL_INTENTS:
            conn.close(INVALID_INTENTS)
            return
        if intents & payloads.PRIVILEGED_INTENTS & ~self.privileged_intents:
            conn.close(DISALLOWED_INTENTS)
            return
        session = self.new_session(intents)
        self._attach(conn, session)
        ready = payloads.ready(
            self.state, session.id, self.resume_url, self.privileged_intents, data.get("shard")
        )
        self.send_dispatch(session, "READY", ready)
        for guild_id in self.state.guilds:
            self.send_dispatch(session, "GUILD_CREATE", payloads.guild_create(self.state, guild_id))

    def _resume(self, conn: Connection, data: JSONObject) -> None:
        if data.get("token") != self.token:
            conn.close(AUTHENTICATION_FAILED)
            return
        session = self.sessions.get(str(data.get("session_id")))
        seq = data.get("seq") or 0
        ok = session is not None and session.resumable and isinstance(seq, int)
        if self.faults.reject_resume or not ok or session is None or seq > session.seq:
            if session is not None:
                session.resumable = False
            conn.push({"op": INVALID_SESSION, "d": False})
            return
        old = session.connection
        if old is not None and old is not conn:
            old.close(4000)  # the session moved to the new connection
        self._attach(conn, session)
        for frame in session.since(seq):
            conn.push(frame)
        self.send_dispatch(session, "RESUMED", {})

    def _attach(self, conn: Connection, session: Session) -> None:
        conn.session = session
        session.connection = conn

    def send_dispatch(self, session: Session, event: str, data: JSONObject) -> None:
        """Number a dispatch in ``session`` and send it when the session has a connection."""
        shown = payloads.visible(event, data, session.intents, self.state.bot.id)
        if shown is None:
            return
        frame = session.add(event, shown)
        if session.connection is not None:
            session.connection.push(frame)

    # -- heartbeats ----------------------------------------------------------------------------

    def watch_heartbeats(self, conn: Connection) -> asyncio.Task[None]:
        """Close ``conn`` with 4009 (session timed out) once its heartbeats stop."""
        return asyncio.create_task(self._watch(conn))

    async def _watch(self, conn: Connection) -> None:
        interval_s = self.heartbeat_interval_ms / 1000
        limit_s = interval_s * self.heartbeat_timeout_factor
        while conn.live:
            await asyncio.sleep(interval_s / 4)
            if time.monotonic() - conn.last_heartbeat > limit_s:
                if conn.session is not None:
                    conn.session.resumable = False
                conn.close(SESSION_TIMED_OUT)
                return
