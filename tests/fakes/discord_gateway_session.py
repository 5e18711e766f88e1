"""Sessions and connections of the fake Discord gateway.

A session (made by IDENTIFY) numbers its dispatches with ``s`` and keeps them all, so a RESUME
replays exactly those after the client's last ``s``. A connection sends frames in the order they
were queued, from one writer task; with ``compress=zlib-stream`` every frame goes through one
zlib stream and ends in a Z_SYNC_FLUSH, as binary, which is how Discord does transport
compression (https://discord.com/developers/docs/events/gateway#transport-compression).
discord.py 2.7 asks for ``zlib-stream`` unless a zstd module is installed, then ``zstd-stream``,
which the fake answers with plain text frames (discord.py parses text frames as they come).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.discord_models import JSONObject

# Op codes: https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway
DISPATCH = 0
HEARTBEAT = 1
IDENTIFY = 2
PRESENCE_UPDATE = 3
VOICE_STATE_UPDATE = 4
RESUME = 6
RECONNECT = 7
REQUEST_GUILD_MEMBERS = 8
INVALID_SESSION = 9
HELLO = 10
HEARTBEAT_ACK = 11

# Close codes the fake sends.
UNKNOWN_ERROR = 4000
UNKNOWN_OPCODE = 4001
DECODE_ERROR = 4002
NOT_AUTHENTICATED = 4003
AUTHENTICATION_FAILED = 4004
ALREADY_AUTHENTICATED = 4005
SESSION_TIMED_OUT = 4009
INVALID_API_VERSION = 4012
INVALID_INTENTS = 4013
DISALLOWED_INTENTS = 4014


@dataclass
class ConnectionRecord:
    """One websocket a client opened: where, with which query, and how it ended."""

    path: str
    query: dict[str, str]
    frames: list[JSONObject] = field(default_factory=list)
    closed_by_fake: int | None = None
    dropped: bool = False


@dataclass
class Session:
    """A gateway session: its intents, the last ``s`` and every dispatch it was sent."""

    id: str
    intents: int
    seq: int = 0
    events: list[JSONObject] = field(default_factory=list)
    connection: Connection | None = None
    resumable: bool = True

    def add(self, event: str, data: JSONObject) -> JSONObject:
        """Number a dispatch with the next ``s`` and keep it for replays."""
        self.seq += 1
        frame: JSONObject = {"op": DISPATCH, "t": event, "s": self.seq, "d": data}
        self.events.append(frame)
        return frame

    def since(self, seq: int) -> list[JSONObject]:
        """Return the dispatches after ``seq``, in order."""
        return [frame for frame in self.events if frame["s"] > seq]


_Close = int  # a queued close code


class Connection:
    """One open websocket: an ordered outgoing queue drained by a single writer task."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, record: ConnectionRecord):
        self.ws = ws
        self.record = record
        self.session: Session | None = None
        self.last_heartbeat = time.monotonic()
        self._transport = request.transport
        self._zlib = zlib.compressobj() if record.query.get("compress") == "zlib-stream" else None
        self._queue: asyncio.Queue[JSONObject | _Close] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write())
        self.closing = False

    @property
    def live(self) -> bool:
        """Whether frames pushed now may still reach the client."""
        return not self.closing and not self.ws.closed

    def push(self, frame: JSONObject) -> None:
        """Queue a frame; frames leave in the order they were pushed."""
        if self.live:
            self._queue.put_nowait(frame)

    def close(self, code: int) -> None:
        """Close with ``code`` once the frames queued before it are sent."""
        if self.live:
            self.closing = True
            self.record.closed_by_fake = code
            self._queue.put_nowait(code)

    def drop(self) -> None:
        """Cut the TCP connection without a close frame (an abnormal closure, 1006)."""
        self.closing = True
        self.record.dropped = True
        if self._transport is not None:
            self._transport.abort()

    async def stop(self) -> None:
        """Stop the writer task (the handler is done with this connection)."""
        self.closing = True
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer

    async def _write(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                if isinstance(item, int):
                    await self.ws.close(code=item)
                    return
                await self._send(item)
            except (ConnectionError, RuntimeError):
                return  # the socket went away under us; the session keeps the frame

    async def _send(self, frame: JSONObject) -> None:
        text = json.dumps(frame, separators=(",", ":"))
        if self._zlib is None:
            await self.ws.send_str(text)
            return
        data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
        await self.ws.send_bytes(data)


def parse_frame(raw: str) -> JSONObject | None:
    """Return a client frame as a dict with an int ``op``, or None when it is not one."""
    try:
        frame: Any = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(frame, dict) or not isinstance(frame.get("op"), int):
        return None
    return frame
