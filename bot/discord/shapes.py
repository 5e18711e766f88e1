"""What prbot asks of Discord and the shapes it passes: plain data, no discord.py objects."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.runtime import NonRetriableError


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
class PostedMessage:
    """A message the bot posted, as Discord shows it later (no nonce: Discord keeps none)."""

    id: int
    content: str = ""
    embeds: tuple[EmbedSpec, ...] = ()


def _text(value: str | None) -> str:
    return (value or "").strip()


def is_posting_of(posted: PostedMessage, message: OutMessage) -> bool:
    """Tell whether `posted` is `message` as sent: same content, embed titles, links and text.

    Discord returns what it stored, trimmed; nothing else of a message identifies who sent it
    for what (`GET /channels/{id}/messages` carries no nonce), so prbot recognises its own
    messages by what they say, among the few it posted since the last one it knows of.
    """
    if _text(posted.content) != _text(message.content) or len(posted.embeds) != len(message.embeds):
        return False
    return all(
        (_text(a.title), _text(a.url), _text(a.description))
        == (_text(b.title), _text(b.url), _text(b.description))
        for a, b in zip(posted.embeds, message.embeds, strict=True)
    )


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
    archived_at: str | None = None  # `archive_timestamp` (ISO 8601) of an archived thread


@dataclass(frozen=True)
class ArchivedPage:
    """One page of a channel's archived threads, newest first, and where the next one starts."""

    threads: list[ThreadInfo]
    next_before: str | None  # None: this was the oldest page


@dataclass(frozen=True)
class ThreadEdit:
    """A PATCH of a thread; None leaves a field as it is."""

    name: str | None = None
    archived: bool | None = None
    locked: bool | None = None
    applied_tags: tuple[int, ...] | None = None


# Told the route template and HTTP status of every Discord call (0: no answer), e.g. for metrics.
Recorder = Callable[[str, int], None]


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
UNKNOWN_MESSAGE = 10008
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

    async def edit_message(self, channel_id: int, message_id: int, message: OutMessage) -> None:
        """Replace the content and embeds of one of the bot's messages (archived: 50083)."""
        ...

    async def delete_message(self, channel_id: int, message_id: int) -> bool:
        """Delete one of the bot's messages; False when it was already gone (10008)."""
        ...

    async def thread(self, thread_id: int) -> ThreadInfo:
        """Return a thread as Discord has it now (name, archived, locked, tags)."""
        ...

    async def own_messages(self, channel_id: int, after: int | None) -> list[PostedMessage]:
        """Return the bot's messages after `after` (None: among the newest), oldest first."""
        ...

    async def active_threads(self, channel: ChannelInfo) -> list[ThreadInfo]:
        """Return the active threads whose parent is `channel`."""
        ...

    async def archived_threads(self, channel_id: int, max_pages: int) -> list[ThreadInfo]:
        """Return public archived threads of the channel, newest first, up to `max_pages`."""
        ...

    async def respond(self, application_id: int, token: str, message: OutMessage) -> None:
        """Edit the deferred answer of an interaction (its token lives 15 minutes)."""

    async def archived_page(self, channel_id: int, before: str | None) -> ArchivedPage:
        """Return one page of public archived threads archived before `before` (None: newest)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
