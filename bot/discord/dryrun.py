"""The dry-run adapter: every Discord action becomes one readable, deterministic transcript line.

Used when `DISCORD_TOKEN` is unset and by replays. Ids come from counters (threads 10001…,
messages 1000001…) and lines carry no timestamps, so golden files can compare transcripts.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TextIO

from bot.discord.shapes import (
    THREAD_ARCHIVED,
    UNKNOWN_CHANNEL,
    UNKNOWN_MESSAGE,
    ArchivedPage,
    ChannelInfo,
    DiscordApiError,
    EmbedSpec,
    OutMessage,
    PostedMessage,
    ThreadEdit,
    ThreadInfo,
)

THREAD_IDS = 10_000
MESSAGE_IDS = 1_000_000
TAG_IDS = 500
GUILD_ID = 1
DESCRIPTION_SHOWN = 300


def _one_line(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\\n")


def _embed_text(embed: EmbedSpec) -> str:
    parts = [f'"{_one_line(embed.title)}"' if embed.title else '""']
    if embed.url:
        parts.append(f"<{embed.url}>")
    if embed.author:
        parts.append(f"by {embed.author}")
    for f in embed.fields:
        parts.append(f"{_one_line(f.name)}={_one_line(f.value)}")
    if embed.description:
        desc = _one_line(embed.description)
        if len(desc) > DESCRIPTION_SHOWN:
            desc = desc[:DESCRIPTION_SHOWN] + f"…(+{len(desc) - DESCRIPTION_SHOWN} chars)"
        parts.append(f": {desc}")
    return "[embed " + " ".join(parts) + "]"


def message_text(message: OutMessage) -> str:
    """Return a message as one transcript fragment: content, embeds and who it may ping."""
    parts = [_one_line(message.content)] if message.content else []
    parts.extend(_embed_text(e) for e in message.embeds)
    if message.mention_users:
        parts.append("(may ping " + ", ".join(str(u) for u in message.mention_users) + ")")
    return " ".join(parts)


class DryRunAdapter:
    """`DiscordAdapter` that records a transcript instead of calling Discord."""

    def __init__(
        self,
        out: TextIO | None = None,
        forums: Mapping[int, Sequence[str]] | None = None,
        echo: bool = True,
    ) -> None:
        self.lines: list[str] = []
        self._out = out
        self._echo = echo
        self._forums = {cid: list(tags) for cid, tags in (forums or {}).items()}
        self._threads: dict[int, ThreadInfo] = {}
        self._nonces: dict[str, int] = {}
        self._messages: dict[int, list[PostedMessage]] = {}
        self._message_count = 0

    def _emit(self, line: str) -> None:
        self.lines.append(line)
        if self._echo:
            print(line, file=self._out or sys.stdout, flush=True)

    def _tag_names(self, channel_id: int | None, tag_ids: Sequence[int]) -> str:
        names = self._forums.get(channel_id or 0, [])
        shown = [names[t - TAG_IDS] if 0 <= t - TAG_IDS < len(names) else str(t) for t in tag_ids]
        return "[" + ", ".join(shown) + "]"

    async def channel(self, channel_id: int) -> ChannelInfo:
        """Return a text channel, or a forum with the tags given at construction."""
        names = self._forums.get(channel_id)
        if names is None:
            return ChannelInfo(channel_id, GUILD_ID, False)
        tags = {name.casefold(): TAG_IDS + i for i, name in enumerate(names)}
        return ChannelInfo(channel_id, GUILD_ID, True, tags)

    def _new_thread(self, channel_id: int, name: str, tags: Sequence[int]) -> ThreadInfo:
        thread = ThreadInfo(THREAD_IDS + len(self._threads) + 1, name, channel_id, False, False)
        thread = replace(thread, applied_tags=tuple(tags))
        self._threads[thread.id] = thread
        return thread

    async def create_thread(self, channel_id: int, name: str, auto_archive_min: int) -> ThreadInfo:
        """Record a public thread created in a text channel."""
        thread = self._new_thread(channel_id, name, ())
        self._emit(f'thread {thread.id} created in channel {channel_id}: "{name}"')
        return thread

    async def create_forum_post(
        self,
        channel_id: int,
        name: str,
        message: OutMessage,
        auto_archive_min: int,
        tags: Sequence[int],
    ) -> ThreadInfo:
        """Record a forum post and its first message."""
        thread = replace(self._new_thread(channel_id, name, tags), messages_sent=1)
        self._threads[thread.id] = thread
        self._keep(thread.id, thread.id, message)
        shown = self._tag_names(channel_id, tags)
        self._emit(f'forum post {thread.id} created in channel {channel_id}: "{name}" tags {shown}')
        self._emit(f"thread {thread.id} message: {message_text(message)}")
        return thread

    async def send(self, thread_id: int, message: OutMessage, nonce: str) -> int:
        """Record a message; a repeated nonce returns the first message, as Discord does."""
        if nonce in self._nonces:
            return self._nonces[nonce]
        self._message_count += 1
        message_id = MESSAGE_IDS + self._message_count
        self._nonces[nonce] = message_id
        self._keep(thread_id, message_id, message)
        thread = self._threads.get(thread_id)
        if thread is not None:
            archived = thread.archived and thread.locked
            sent = thread.messages_sent + 1
            self._threads[thread_id] = replace(thread, archived=archived, messages_sent=sent)
        where = "thread" if thread is not None else "channel"  # a digest or an alert channel
        self._emit(f"{where} {thread_id} message: {message_text(message)}")
        return message_id

    def _keep(self, channel_id: int, message_id: int, message: OutMessage) -> None:
        posted = PostedMessage(message_id, message.content, message.embeds)
        self._messages.setdefault(channel_id, []).append(posted)

    def _find(self, route: str, channel_id: int, message_id: int) -> int:
        """Return the index of a kept message; Discord's errors for a gone or archived one."""
        thread = self._threads.get(channel_id)
        if thread is not None and thread.archived:  # Discord: unarchive before editing
            raise DiscordApiError(route, 400, THREAD_ARCHIVED, "Thread is archived")
        for i, posted in enumerate(self._messages.get(channel_id, [])):
            if posted.id == message_id:
                return i
        raise DiscordApiError(route, 404, UNKNOWN_MESSAGE, "Unknown Message")

    async def edit_message(self, channel_id: int, message_id: int, message: OutMessage) -> None:
        """Record a message edit (Discord's rules: not in an archived thread, not a gone one)."""
        i = self._find("PATCH /channels/{id}/messages/{id}", channel_id, message_id)
        self._messages[channel_id][i] = PostedMessage(message_id, message.content, message.embeds)
        self._emit(f"thread {channel_id} edited message {message_id}: {message_text(message)}")

    async def delete_message(self, channel_id: int, message_id: int) -> bool:
        """Record a message deletion; False when it was already gone."""
        try:
            i = self._find("DELETE /channels/{id}/messages/{id}", channel_id, message_id)
        except DiscordApiError as exc:
            if exc.code == UNKNOWN_MESSAGE:
                return False
            raise
        del self._messages[channel_id][i]
        self._emit(f"thread {channel_id} deleted message {message_id}")
        return True

    async def own_messages(self, channel_id: int, after: int | None) -> list[PostedMessage]:
        """Return this session's messages in the channel after `after`, oldest first."""
        return [m for m in self._messages.get(channel_id, []) if after is None or m.id > after]

    async def thread(self, thread_id: int) -> ThreadInfo:
        """Return a thread of this session (Unknown Channel for any other)."""
        if thread_id not in self._threads:
            raise DiscordApiError("GET /channels/{id}", 404, UNKNOWN_CHANNEL, "Unknown Channel")
        return self._threads[thread_id]

    async def edit_thread(self, thread_id: int, edit: ThreadEdit) -> ThreadInfo:
        """Record a thread edit as one line listing what changed."""
        old = self._threads.get(thread_id) or ThreadInfo(thread_id, "", None)
        parts: list[str] = []
        new = old
        if edit.name is not None:
            parts.append(f'renamed "{old.name}" -> "{edit.name}"')
            new = replace(new, name=edit.name)
        if edit.archived is not None and edit.archived != old.archived:
            parts.append("archived" if edit.archived else "unarchived")
            new = replace(new, archived=edit.archived)
        if edit.locked is not None and edit.locked != old.locked:
            parts.append("locked" if edit.locked else "unlocked")
            new = replace(new, locked=edit.locked)
        if edit.applied_tags is not None:
            parts.append("tagged " + self._tag_names(old.parent_id, edit.applied_tags))
            new = replace(new, applied_tags=edit.applied_tags)
        self._threads[thread_id] = new
        self._emit(f"thread {thread_id} " + (", ".join(parts) or "unchanged"))
        return new

    async def active_threads(self, channel: ChannelInfo) -> list[ThreadInfo]:
        """Return this session's unarchived threads in `channel`."""
        return [t for t in self._threads.values() if t.parent_id == channel.id and not t.archived]

    async def archived_threads(self, channel_id: int, max_pages: int) -> list[ThreadInfo]:
        """Return this session's archived threads in the channel, newest first."""
        found = [t for t in self._threads.values() if t.parent_id == channel_id and t.archived]
        return found[::-1]

    async def respond(self, application_id: int, token: str, message: OutMessage) -> None:
        """Record the answer to an interaction (never its token)."""
        self._emit(f"interaction answer: {message_text(message)}")

    async def archived_page(self, channel_id: int, before: str | None) -> ArchivedPage:
        """Return this session's archived threads in the channel as one page."""
        return ArchivedPage(await self.archived_threads(channel_id, 1), None)

    async def close(self) -> None:
        """Nothing to release."""
