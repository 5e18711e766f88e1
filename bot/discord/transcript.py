"""Keep what was done on Discord as data: threads, their messages and changes, for a page of it.

`RecordingAdapter` wraps any adapter (the dry run, or the real one in a live replay) and records
each thread as Discord would show it: its name, forum tags, archived and locked state, and in
order the messages posted and the changes made (renames, archiving, tags).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.discord.shapes import (
    ArchivedPage,
    ChannelInfo,
    DiscordAdapter,
    OutMessage,
    PostedMessage,
    ThreadEdit,
    ThreadInfo,
)


@dataclass
class Entry:
    """One line of a thread: a message (with its id), or a change made to the thread."""

    message: OutMessage | None = None
    message_id: int | None = None
    change: str = ""
    edited: bool = False


@dataclass
class ThreadLog:
    """A thread or forum post and everything posted in it, in order."""

    id: int
    channel_id: int
    name: str
    forum: bool = False
    archived: bool = False
    locked: bool = False
    tags: list[str] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)


@dataclass
class Transcript:
    """The threads touched, in the order they were first seen."""

    threads: dict[int, ThreadLog] = field(default_factory=dict)


class RecordingAdapter:
    """A `DiscordAdapter` that passes every call to `inner` and records the result."""

    def __init__(
        self, inner: DiscordAdapter, forums: Mapping[int, Sequence[str]] | None = None
    ) -> None:
        self.inner = inner
        self.transcript = Transcript()
        # Tag names as configured (Discord matches them case-insensitively).
        self._names = {n.casefold(): n for names in (forums or {}).values() for n in names}
        self._tags: dict[int, dict[int, str]] = {}

    def _tag_names(self, channel_id: int, tag_ids: Sequence[int]) -> list[str]:
        known = self._tags.get(channel_id, {})
        return [self._names.get(known.get(t, ""), known.get(t, str(t))) for t in tag_ids]

    def _thread(self, info: ThreadInfo) -> ThreadLog:
        log = self.transcript.threads.get(info.id)
        if log is None:
            log = ThreadLog(info.id, info.parent_id or 0, info.name)
            self.transcript.threads[info.id] = log
        return log

    async def channel(self, channel_id: int) -> ChannelInfo:
        """Return the channel, remembering its forum tags by id."""
        info = await self.inner.channel(channel_id)
        self._tags[channel_id] = {tag_id: name for name, tag_id in info.tags.items()}
        return info

    async def create_thread(self, channel_id: int, name: str, auto_archive_min: int) -> ThreadInfo:
        """Create a thread and start its log."""
        info = await self.inner.create_thread(channel_id, name, auto_archive_min)
        self._thread(info)
        return info

    async def create_forum_post(
        self,
        channel_id: int,
        name: str,
        message: OutMessage,
        auto_archive_min: int,
        tags: Sequence[int],
    ) -> ThreadInfo:
        """Create a forum post and log its first message and tags."""
        info = await self.inner.create_forum_post(channel_id, name, message, auto_archive_min, tags)
        log = self._thread(info)
        log.forum = True
        log.tags = self._tag_names(channel_id, tags)
        log.entries.append(Entry(message, info.id))
        return info

    async def send(self, thread_id: int, message: OutMessage, nonce: str) -> int:
        """Post a message; a repeat that Discord dropped (same id back) is logged once."""
        message_id = await self.inner.send(thread_id, message, nonce)
        log = self.transcript.threads.get(thread_id)
        if log is None:  # a thread made before this recording started
            log = ThreadLog(thread_id, 0, f"thread {thread_id}")
            self.transcript.threads[thread_id] = log
        if all(e.message_id != message_id for e in log.entries):
            log.entries.append(Entry(message, message_id))
            log.archived = log.archived and log.locked  # posting unarchives an unlocked thread
        return message_id

    async def edit_thread(self, thread_id: int, edit: ThreadEdit) -> ThreadInfo:
        """Edit a thread and log each change it made."""
        info = await self.inner.edit_thread(thread_id, edit)
        log = self._thread(info)
        changes: list[str] = []
        if edit.name is not None and edit.name != log.name:
            changes.append(f"renamed the thread to “{edit.name}”")
            log.name = edit.name
        if edit.applied_tags is not None:
            log.tags = self._tag_names(log.channel_id, edit.applied_tags)
            changes.append("set the tags to " + (", ".join(log.tags) or "none"))
        if edit.locked is not None and edit.locked != log.locked:
            changes.append("locked the thread" if edit.locked else "unlocked the thread")
            log.locked = edit.locked
        if edit.archived is not None and edit.archived != log.archived:
            changes.append("archived the thread" if edit.archived else "reopened the thread")
            log.archived = edit.archived
        log.entries.extend(Entry(change=c) for c in changes)
        return info

    async def edit_message(self, channel_id: int, message_id: int, message: OutMessage) -> None:
        """Edit a message and show its new text in place (Discord marks it edited)."""
        await self.inner.edit_message(channel_id, message_id, message)
        log = self.transcript.threads.get(channel_id)
        for entry in log.entries if log is not None else []:
            if entry.message_id == message_id:
                entry.message = message
                entry.edited = True

    async def delete_message(self, channel_id: int, message_id: int) -> bool:
        """Delete a message and drop it from the thread's log."""
        deleted = await self.inner.delete_message(channel_id, message_id)
        log = self.transcript.threads.get(channel_id)
        if log is not None:
            log.entries = [e for e in log.entries if e.message_id != message_id]
        return deleted

    async def thread(self, thread_id: int) -> ThreadInfo:
        """Read through: looking at a thread records nothing."""
        return await self.inner.thread(thread_id)

    async def own_messages(self, channel_id: int, after: int | None) -> list[PostedMessage]:
        """Read through: looking for earlier posts records nothing."""
        return await self.inner.own_messages(channel_id, after)

    async def active_threads(self, channel: ChannelInfo) -> list[ThreadInfo]:
        """Return the active threads of a channel."""
        return await self.inner.active_threads(channel)

    async def archived_threads(self, channel_id: int, max_pages: int) -> list[ThreadInfo]:
        """Return the archived threads of a channel."""
        return await self.inner.archived_threads(channel_id, max_pages)

    async def respond(self, application_id: int, token: str, message: OutMessage) -> None:
        """Answer an interaction; nothing of a thread to record."""
        await self.inner.respond(application_id, token, message)

    async def archived_page(self, channel_id: int, before: str | None) -> ArchivedPage:
        """Return a page of the archived threads of a channel."""
        return await self.inner.archived_page(channel_id, before)

    async def close(self) -> None:
        """Close the inner adapter."""
        await self.inner.close()
