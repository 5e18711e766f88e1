"""The Discord gateway door: one discord.py connection handing prbot new, edited, deleted messages.

A plain discord.py `Client` connects to the class attribute `DiscordWebSocket.DEFAULT_GATEWAY`
(it never asks `GET /gateway/bot`) and sends REST calls to `Route.BASE`; `Gateway.run` sets both
from its arguments, the one place prbot points discord.py's gateway somewhere else. discord.py
heartbeats, resumes after a dropped connection or op 7, and identifies again after op 9; it gives
up only on close codes such as 4004 (bad token) and 4014 (privileged intent not enabled), which
become `GatewayError`s here. Edits and deletes come from the raw events, so they arrive for
messages discord.py never cached; every message is handed on as a plain dataclass, one at a time,
in the order the gateway sent them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import aiohttp

from bot.discord.http import (
    DEFAULT_GATEWAY_URL,
    discord,
    use_discord_gateway,
    use_discord_http,
)
from bot.discord.shapes import DiscordApiError
from bot.runtime import NonRetriableError, RetriableError

log = logging.getLogger(__name__)

# Discord allows one IDENTIFY per 5 s for a bot without sharding (max_concurrency 1); discord.py
# waits this long before identifying again after an invalid session.
IDENTIFY_WAIT_S = 5.0
# https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-close-event-codes
AUTHENTICATION_FAILED = 4004
DISALLOWED_INTENTS = 4014
PORTAL_HINT = (
    "enable MESSAGE CONTENT INTENT for this bot in the Discord Developer Portal "
    "(https://discord.com/developers/applications → your app → Bot → Privileged Gateway "
    "Intents), then start prbot again"
)


@dataclass(frozen=True)
class ReceivedMessage:
    """A message as the gateway reported it when it was created or edited."""

    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    author_name: str  # display name: server nickname, else global name, else username
    author_bot: bool
    webhook_id: int | None
    system: bool  # made by Discord (joins, pins, thread created...), not written by anyone
    content: str  # empty unless the MESSAGE_CONTENT intent is granted (or the bot is mentioned)
    attachment_urls: tuple[str, ...]
    reference_id: int | None  # the message this one replies to
    mention_ids: tuple[int, ...]
    edited_at: datetime | None


@dataclass(frozen=True)
class DeletedMessage:
    """A message deleted; only its ids are known."""

    id: int
    channel_id: int
    guild_id: int | None


class GatewayError(NonRetriableError):
    """Discord closed the gateway for good: reconnecting cannot help until someone acts."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class InvalidTokenError(GatewayError):
    """Discord rejected the bot token (REST 401 at login, gateway close 4004)."""


class MessageContentIntentError(GatewayError):
    """The app has not been granted the privileged MESSAGE CONTENT intent (close 4014)."""


MessageCallback = Callable[[ReceivedMessage], Awaitable[None]]
DeleteCallback = Callable[[DeletedMessage], Awaitable[None]]
Delivery = Callable[[], Awaitable[None]]
T = TypeVar("T")


def gateway_intents() -> discord.Intents:
    """Return the intents prbot identifies with: guilds, guild messages, message content."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.message_content = True
    return intents


def received(message: discord.Message) -> ReceivedMessage:
    """Translate a discord.py message into the door's own shape."""
    guild_id = message.guild.id if message.guild else getattr(message.channel, "guild_id", None)
    reference = message.reference
    return ReceivedMessage(
        id=message.id,
        channel_id=message.channel.id,
        guild_id=guild_id,
        author_id=message.author.id,
        author_name=message.author.display_name,
        author_bot=message.author.bot,
        webhook_id=message.webhook_id,
        system=message.is_system(),
        content=message.content,
        attachment_urls=tuple(a.url for a in message.attachments),
        reference_id=reference.message_id if reference is not None else None,
        mention_ids=tuple(user.id for user in message.mentions),
        edited_at=message.edited_at,
    )


class _Client(discord.Client):
    """discord.py's client, its message events turned into deliveries queued in order."""

    def __init__(self, door: Gateway, guild_ready_timeout_s: float) -> None:
        super().__init__(
            intents=gateway_intents(),
            max_messages=None,  # raw events carry everything; no message cache needed
            guild_ready_timeout=guild_ready_timeout_s,
        )
        self.door = door

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Wait out Discord's identify limit before a new session (not before the first)."""
        if not initial:
            await self.door.sleep(IDENTIFY_WAIT_S)

    # Each handler runs as its own task, but tasks start in the order they were made, so
    # queueing before the first await keeps the gateway's order.
    async def on_message(self, message: discord.Message) -> None:
        """Queue a created message."""
        self.door.queue(self.door.on_created, received(message))

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """Queue an edited message, cached or not."""
        self.door.queue(self.door.on_updated, received(payload.message))

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        """Queue a deleted message, cached or not."""
        deleted = DeletedMessage(payload.message_id, payload.channel_id, payload.guild_id)
        self.door.queue(self.door.on_deleted, deleted)

    async def on_ready(self) -> None:
        """Note that the session is up and the guilds have arrived."""
        log.info("Discord gateway ready: %d guild(s)", len(self.guilds))
        self.door.connected = True
        self.door.ready.set()

    async def on_resumed(self) -> None:
        """Note a resumed session (the missed events were replayed before this)."""
        log.info("Discord gateway session resumed")
        self.door.connected = True

    async def on_disconnect(self) -> None:
        """Note a lost connection; discord.py is already resuming or reconnecting."""
        self.door.connected = False


class Gateway:
    """One gateway connection that calls back for every message created, edited or deleted."""

    def __init__(
        self,
        token: str,
        *,
        api_base: str,
        gateway_url: str | None,
        on_created: MessageCallback,
        on_updated: MessageCallback,
        on_deleted: DeleteCallback,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        guild_ready_timeout_s: float = 2.0,
    ) -> None:
        self._token = token
        self._api_base = api_base.rstrip("/")
        self._gateway_url = gateway_url or DEFAULT_GATEWAY_URL
        self.on_created = on_created
        self.on_updated = on_updated
        self.on_deleted = on_deleted
        self.sleep = sleep
        self.ready = asyncio.Event()  # set once, at the first READY
        self.connected = False  # whether a session is up right now (for readiness probes)
        self._deliveries: asyncio.Queue[Delivery] = asyncio.Queue()
        self._client = _Client(self, guild_ready_timeout_s)

    @property
    def user_id(self) -> int | None:
        """The bot's own user id once logged in (to recognise its own messages)."""
        user = self._client.user
        return user.id if user is not None else None

    @property
    def latency_s(self) -> float:
        """Seconds between the last heartbeat and its ACK (infinite before the first ACK)."""
        return self._client.latency

    def queue(self, callback: Callable[[T], Awaitable[None]], item: T) -> None:
        """Queue one callback; they run one at a time, in order."""
        self._deliveries.put_nowait(lambda: callback(item))

    @property
    def message_content_allowed(self) -> bool:
        """Tell whether the app's flags say MESSAGE_CONTENT is on (known once logged in).

        https://discord.com/developers/docs/resources/application#application-object-application-flags:
        GATEWAY_MESSAGE_CONTENT (1 << 18), or GATEWAY_MESSAGE_CONTENT_LIMITED (1 << 19) for an
        app in fewer than 100 servers; without either, IDENTIFY with the intent closes 4014.
        """
        flags = self._client.application_flags
        return flags.gateway_message_content or flags.gateway_message_content_limited

    async def login(self) -> None:
        """Log in over REST (the bot user, the application and its flags); `close` after."""
        use_discord_http(self._api_base, self.sleep)
        use_discord_gateway(self._gateway_url)
        if self._client.user is None:
            with _translate():
                await self._client.login(self._token)

    async def run(self) -> None:
        """Log in, connect and deliver messages until `close`; raise `GatewayError` if refused."""
        worker = asyncio.create_task(self._deliver())
        try:
            await self.login()
            with _translate():
                await self._client.connect(reconnect=True)
            await self._deliveries.join()  # closed on purpose: hand on what already arrived
        finally:
            await self._client.close()
            worker.cancel()

    async def wait_ready(self) -> None:
        """Wait until the session is ready (READY and every GUILD_CREATE received)."""
        await self.ready.wait()

    async def close(self) -> None:
        """Close the connection; `run` returns once the queued messages are handed on."""
        await self._client.close()

    async def _deliver(self) -> None:
        while True:
            delivery = await self._deliveries.get()
            try:
                await delivery()
            except Exception:
                log.exception("a gateway message callback failed; the message is skipped")
            finally:
                self._deliveries.task_done()


@contextmanager
def _translate() -> Iterator[None]:
    """Turn discord.py's login and gateway errors into prbot's."""
    try:
        yield
    except discord.PrivilegedIntentsRequired as exc:
        raise MessageContentIntentError(
            f"Discord refused the gateway connection (close {DISALLOWED_INTENTS}, disallowed "
            f"intents): {PORTAL_HINT}",
            DISALLOWED_INTENTS,
        ) from exc
    except discord.LoginFailure as exc:
        raise InvalidTokenError("Discord rejected DISCORD_TOKEN (401 at login)", 401) from exc
    except discord.ConnectionClosed as exc:
        if exc.code == AUTHENTICATION_FAILED:
            message = "Discord rejected DISCORD_TOKEN on the gateway (close 4004)"
            raise InvalidTokenError(message, exc.code) from exc
        raise GatewayError(f"Discord closed the gateway with {exc.code}", exc.code) from exc
    except discord.HTTPException as exc:
        if exc.status >= 500 or exc.status == 429:
            raise RetriableError(f"Discord {exc.status} at gateway login") from exc
        raise DiscordApiError("GET /users/@me", exc.status, exc.code, exc.text) from exc
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise RetriableError(f"network error at gateway login: {type(exc).__name__}") from exc
