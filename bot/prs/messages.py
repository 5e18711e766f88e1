"""prbot's own messages in a PR's thread, changed after the fact: edits and deletions.

Which Discord message prbot posted for which GitHub comment or review is kept in the store
(`data:message:<kind>:<github id>`), so GitHub's `edited`, `deleted` and `dismissed` deliveries
change that message. Discord edits nothing in an archived thread (50083): the thread is
unarchived for the change and archived again.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel, ValidationError

from bot.discord import THREAD_ARCHIVED, UNKNOWN_MESSAGE, DiscordApiError, OutMessage, ThreadEdit
from bot.prs import render
from bot.prs.mapping import ThreadRecord, ThreadStore
from bot.prs.threads import Threads
from bot.runtime import Store

log = logging.getLogger(__name__)

# GitHub comments can be edited long after; a link older than this is let go.
LINK_TTL_MS = 90 * 24 * 3_600_000


class Posted(BaseModel):
    """Where prbot posted the message for a GitHub comment or review."""

    thread_id: int
    message_id: int
    state: str | None = None  # a review's verdict when it was posted


class Links:
    """GitHub comment or review id -> the Discord message prbot posted for it."""

    def __init__(self, store: Store) -> None:
        self.data = store.data

    async def remember(
        self, kind: str, github_id: int, thread_id: int, message_id: int, state: str = ""
    ) -> None:
        """Record that `message_id` in `thread_id` is prbot's message for `kind` `github_id`."""
        fields = {"thread_id": str(thread_id), "message_id": str(message_id)}
        if state:
            fields["state"] = state
        await self.data.update("message", f"{kind}:{github_id}", fields, LINK_TTL_MS)

    async def remember_posted(
        self,
        records: ThreadStore,
        key: str,
        kind: str,
        github_id: int,
        message_id: int,
        state: str = "",
    ) -> None:
        """Record prbot's message for `kind` `github_id`, posted in the PR's current thread."""
        record = await records.get(key)
        if record is not None:
            await self.remember(kind, github_id, record.thread_id, message_id, state)

    async def get(self, kind: str, github_id: int) -> Posted | None:
        """Return the message posted for it, None when prbot posted none (or forgot)."""
        raw = await self.data.get("message", f"{kind}:{github_id}")
        try:
            return Posted.model_validate(raw) if raw else None
        except ValidationError:
            return None

    async def forget(self, kind: str, github_id: int) -> None:
        """Drop the link (its message was deleted)."""
        await self.data.forget("message", f"{kind}:{github_id}")


class ThreadMessages:
    """Edit or delete prbot's messages in a PR's thread, archived or not."""

    def __init__(self, threads: Threads) -> None:
        self.threads = threads
        self.discord = threads.discord
        self.links = Links(threads.store)

    async def dismiss(
        self, key: str, review_id: int, reviewer: str, body: str | None, url: str
    ) -> str:
        """Strike through the verdict of a dismissed review's message."""
        posted = await self.links.get("review", review_id)
        state = posted.state if posted else None
        message = render.review_struck(state, reviewer, body, url)
        return await self.follow(key, "review", review_id, message)

    async def follow(self, key: str, kind: str, github_id: int, message: OutMessage | None) -> str:
        """Edit (or delete, `message` None) the message prbot posted for a GitHub object."""
        posted = await self.links.get(kind, github_id)
        record = await self.threads.records.get(key)
        if posted is None or record is None:
            return "not posted by prbot"
        if record.thread_id != posted.thread_id:
            return "posted in an earlier thread"
        if message is not None:
            return "edited" if await self.edit(key, record, posted.message_id, message) else "gone"
        deleted = await self.delete(key, record, posted.message_id)
        await self.links.forget(kind, github_id)
        return "deleted" if deleted else "gone"

    async def edit(
        self, key: str, record: ThreadRecord, message_id: int, message: OutMessage
    ) -> bool:
        """Replace a message's text; False when it is gone. Idempotent: a retry sends the same."""
        try:
            await self.discord.edit_message(record.thread_id, message_id, message)
        except DiscordApiError as exc:
            if exc.code == UNKNOWN_MESSAGE:
                return False
            if exc.code != THREAD_ARCHIVED:
                raise
            await self._while_unarchived(key, record)
            await self.discord.edit_message(record.thread_id, message_id, message)
            await self.threads.archive(key, record.thread_id)
            return True
        # A try cut short between unarchiving and archiving left a closed PR's thread open.
        await self.threads.rearchive_if_closed(key, record.thread_id, record.archived)
        return True

    async def delete(self, key: str, record: ThreadRecord, message_id: int) -> bool:
        """Delete a message; False when it was gone already."""
        try:
            deleted = await self.discord.delete_message(record.thread_id, message_id)
        except DiscordApiError as exc:
            if exc.code != THREAD_ARCHIVED:
                raise
            await self._while_unarchived(key, record)
            deleted = await self.discord.delete_message(record.thread_id, message_id)
            await self.threads.archive(key, record.thread_id)
            return deleted
        await self.threads.rearchive_if_closed(key, record.thread_id, record.archived)
        return deleted

    async def _while_unarchived(self, key: str, record: ThreadRecord) -> None:
        log.info("unarchiving thread %s to change a message in it", record.thread_id)
        await self.threads.patch(key, record, ThreadEdit(archived=False))
