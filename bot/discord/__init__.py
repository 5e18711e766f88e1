"""The Discord boundary: what prbot asks of Discord, the shapes it passes, and its errors.

Two adapters implement `DiscordAdapter`: `adapter.DiscordRestAdapter` (discord.py, REST only) and
`dryrun.DryRunAdapter` (a transcript, used when `DISCORD_TOKEN` is unset and by replays).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TextIO

from bot.runtime import NonRetriableError, RetriableError, RetryAfterError

if TYPE_CHECKING:
    from bot.runtime import Store
    from bot.settings import Settings


@dataclass(frozen=True)
class EmbedField:
    """One field of an embed (name ≤ 256, value ≤ 1024)."""

    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True)
class EmbedSpec:
    """An embed, already cut to Discord's limits by `bot.prs.render`."""

    title: str | None = None
    url: str | None = None
    description: str | None = None
    author: str | None = None
    fields: tuple[EmbedField, ...] = ()
    color: int | None = None
    footer: str | None = None


@dataclass(frozen=True)
class OutMessage:
    """A message to post; `mention_users` are the only ids allowed to be pinged."""

    content: str = ""
    embeds: tuple[EmbedSpec, ...] = ()
    mention_users: tuple[int, ...] = ()


@dataclass(frozen=True)
class ChannelInfo:
    """A channel threads are made in: text (public threads) or forum (posts with tags)."""

    id: int
    guild_id: int | None
    forum: bool
    tags: dict[str, int] = field(default_factory=dict)  # forum tag name (casefolded) -> id


@dataclass(frozen=True)
class ThreadInfo:
    """A thread or forum post as Discord last reported it."""

    id: int
    name: str
    parent_id: int | None
    archived: bool = False
    locked: bool = False
    applied_tags: tuple[int, ...] = ()
    messages_sent: int = 0  # `total_message_sent`: 0 means nothing was ever posted in it


@dataclass(frozen=True)
class ThreadEdit:
    """A PATCH of a thread; None leaves a field as it is."""

    name: str | None = None
    archived: bool | None = None
    locked: bool | None = None
    applied_tags: tuple[int, ...] | None = None


class DiscordApiError(NonRetriableError):
    """Discord refused a request for good (4xx with a JSON error code): a visible failed run."""

    def __init__(self, route: str, status: int, code: int, text: str) -> None:
        super().__init__(f"Discord {status} (code {code}) on {route}: {text}")
        self.route = route
        self.status = status
        self.code = code
        self.text = text


# https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes
UNKNOWN_CHANNEL = 10003
# Logging in at start: a passing Discord outage should not crash-loop the process.
LOGIN_ATTEMPTS = 5
LOGIN_MAX_WAIT_S = 30.0

log = logging.getLogger(__name__)
THREAD_ARCHIVED = 50083


class DiscordAdapter(Protocol):
    """Everything prbot does on Discord."""

    async def channel(self, channel_id: int) -> ChannelInfo:
        """Return the channel's kind, guild and forum tags (cached per process)."""
        ...

    async def create_thread(self, channel_id: int, name: str, auto_archive_min: int) -> ThreadInfo:
        """Create a public thread (type 11) without a starter message in a text channel."""
        ...

    async def create_forum_post(
        self,
        channel_id: int,
        name: str,
        message: OutMessage,
        auto_archive_min: int,
        tags: Sequence[int],
    ) -> ThreadInfo:
        """Create a forum post whose first message is `message`, with `tags` applied."""
        ...

    async def send(self, thread_id: int, message: OutMessage, nonce: str) -> int:
        """Post `message` with `nonce` and `enforce_nonce`; return the message id."""
        ...

    async def edit_thread(self, thread_id: int, edit: ThreadEdit) -> ThreadInfo:
        """PATCH a thread (name, archived, locked, applied tags)."""
        ...

    async def active_threads(self, channel: ChannelInfo) -> list[ThreadInfo]:
        """Return the active threads whose parent is `channel`."""
        ...

    async def archived_threads(self, channel_id: int, max_pages: int) -> list[ThreadInfo]:
        """Return public archived threads of the channel, newest first, up to `max_pages`."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


async def open_adapter(
    settings: Settings,
    *,
    out: TextIO | None = None,
    forums: Mapping[int, Sequence[str]] | None = None,
    store: Store | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> DiscordAdapter:
    """Return the REST adapter logged in with `DISCORD_TOKEN`, or the dry-run one without it.

    `out` and `forums` (forum channel id -> tag names) only shape the dry run's transcript.
    With `store`, every process using it paces its calls together under DISCORD_GLOBAL_RATE.
    A login that fails for a passing reason (5xx, network, 429) is tried again with backoff;
    an invalid token fails at once.
    """
    if settings.discord_token is None:
        from bot.discord.dryrun import DryRunAdapter

        return DryRunAdapter(out=out, forums=forums)
    from bot.discord.adapter import DiscordRestAdapter
    from bot.discord.pacing import RedisPacer

    token = settings.discord_token.get_secret_value()
    for attempt in range(1, LOGIN_ATTEMPTS + 1):
        try:
            adapter = await DiscordRestAdapter.login(token, api_base=settings.discord_api_base)
            break
        except (RetriableError, RetryAfterError) as exc:
            if attempt == LOGIN_ATTEMPTS:
                raise
            delay = exc.seconds if isinstance(exc, RetryAfterError) else 2.0**attempt
            log.warning("Discord login failed (%s); attempt %d again in %.0f s", exc, attempt + 1,
                        delay)  # fmt: skip
            await sleep(min(delay, LOGIN_MAX_WAIT_S))
    if store is not None:
        adapter.pacer = RedisPacer(store, "discord", settings.discord_global_rate)
    return adapter


__all__ = [
    "THREAD_ARCHIVED",
    "UNKNOWN_CHANNEL",
    "ChannelInfo",
    "DiscordAdapter",
    "DiscordApiError",
    "EmbedField",
    "EmbedSpec",
    "OutMessage",
    "ThreadEdit",
    "ThreadInfo",
    "open_adapter",
]
