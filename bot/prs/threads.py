"""A PR's thread: post in it, set its state (tags, archive), rename it. Mapping: bot.prs.mapping.

Each public `Threads` method is meant to run as ONE durable step: it reads the mapping from the
store, re-finds or re-creates the thread when the mapping is gone (`bot.prs.finder`), and writes
back what it changed. A step that may already have written (`bot.prs.effects`) looks first: a
post among the thread's messages after the last one the store knows, an edit by comparing with
the thread as Discord has it now.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from bot.discord import (
    THREAD_ARCHIVED,
    UNKNOWN_CHANNEL,
    DiscordApiError,
    OutMessage,
    ThreadEdit,
    ThreadInfo,
)
from bot.github.payloads import Subject, pr_key
from bot.prs import render
from bot.prs.deps import Deps
from bot.prs.effects import Attempts, post_once
from bot.prs.finder import Ensured, ThreadFinder
from bot.prs.mapping import ThreadRecord, ThreadStore
from bot.prs.routing import name_template, route, tag_names
from bot.prs.tags import Extras, status_tags, warn_missing_tag
from bot.runtime import Context

log = logging.getLogger(__name__)

CLOSED_STATES = ("merged", "closed")
# Retries of the functions that write to Discord. The door never repeats a write answered 5xx
# (it may have been carried out); the runtime retries the step, which finds its own effect
# first. A step makes up to a few writes, so with Discord failing one request in ten an attempt
# fails about one time in four: 4 retries lost about one run in a thousand (seen in the soak),
# 8 lose about one in a hundred thousand. Backoff is capped, so the last try comes minutes later.
DISCORD_RETRIES = 8


class Threads:
    """PR threads on Discord, their mapping in the store; every method is one step's work."""

    def __init__(self, deps: Deps) -> None:
        self.settings = deps.settings
        self.discord = deps.discord
        self.store = deps.store
        self.records = ThreadStore(deps.store)
        self.attempts = Attempts(deps.store)
        self.finder = ThreadFinder(deps, self.records, self.attempts)

    async def find(
        self, repo: str, number: int, opened: datetime | None = None
    ) -> ThreadRecord | None:
        """Return the PR's thread from the mapping, or re-adopt it from the channel by prefix."""
        return await self.finder.find(repo, number, opened)

    async def ensure(self, subject: Subject, create: bool, intro_nonce: str) -> Ensured | None:
        """Find the PR's thread, or create it (with its intro) when `create`; None: no thread."""
        return await self.finder.ensure(subject, create, intro_nonce)

    async def post(self, subject: Subject, message: OutMessage, nonce: str) -> int:
        """Post `message` in the PR's thread with `nonce`; return the message id."""
        record = await self.finder.require(subject, nonce)
        try:
            return await self._send(subject.key, record, message, nonce)
        except DiscordApiError as exc:
            if exc.code == UNKNOWN_CHANNEL:  # the thread was deleted: make a new one
                log.warning("thread %s of %s is gone; recreating", record.thread_id, subject.key)
                await self.records.forget(subject.key)
                record = await self.finder.require(subject, nonce)
                return await self._send(subject.key, record, message, nonce)
            if exc.code == THREAD_ARCHIVED:  # archived and locked: reopen it to post
                await self.patch(subject.key, record, ThreadEdit(archived=False))
                return await self._send(subject.key, record, message, nonce)
            raise

    async def _send(self, key: str, record: ThreadRecord, message: OutMessage, nonce: str) -> int:
        message_id = await post_once(
            self.discord, self.attempts, record.thread_id, message, nonce, record.last_message
        )
        # `thread_id` again: it also points the thread back at its PR (mappings made before
        # that way back existed get it with their next post).
        fields: dict[str, object] = {"thread_id": record.thread_id, "last_message": message_id}
        if record.archived and not record.locked:  # posting unarchived it
            fields["archived"] = False
        await self.records.update(key, **fields)
        return message_id

    async def set_state(
        self,
        subject: Subject,
        state: str | None = None,
        review: str | None = None,
        archive: bool | None = None,
        nonce: str | None = None,
    ) -> bool:
        """Apply the PR status: forum tags, archive/unarchive (and lock on close); True if sent.

        `nonce` names the step: a retry of it compares with the thread on Discord, not the
        mapping, since the edit may have been made and its answer lost.
        """
        record = await self.find(subject.repo, subject.number, subject.created_at)
        if record is None:
            return False
        new_state = state or record.state
        new_review = record.review if review is None else (review or None)
        await self.records.update(subject.key, state=new_state, review=new_review or "")
        extras = await self._extras(subject.key)
        return await self._apply(subject.key, record, new_state, new_review, archive, extras, nonce)

    async def set_extras(
        self,
        repo: str,
        number: int,
        checks: bool,
        labels: tuple[str, ...],
        archive: bool | None = None,
        nonce: str | None = None,
    ) -> bool:
        """Tag a forum post `checks failing` while checks fail, and with its labels' tags."""
        key = pr_key(repo, number)
        record = await self.records.get(key)  # no search: a PR without a thread has no tags
        if record is None:
            return False
        # The labels tagged before: their tags are ours to remove when the label goes.
        extras = Extras(checks, labels, (await self._extras(key)).labels)
        changed = False
        if record.forum:
            changed = await self._apply(
                key, record, record.state, record.review, archive, extras, nonce
            )
        await self.records.update(key, checks="1" if checks else "", labels=json.dumps(labels))
        return changed

    async def _extras(self, key: str) -> Extras:
        labels = tuple(json.loads(await self.records.field(key, "labels") or "[]"))
        return Extras(await self.records.field(key, "checks") == "1", labels, labels)

    async def _apply(
        self,
        key: str,
        record: ThreadRecord,
        state: str,
        review: str | None,
        archive: bool | None,
        extras: Extras,
        nonce: str | None,
    ) -> bool:
        edit = await self._status_edit(record, state, review, archive, extras)
        if edit == ThreadEdit():
            return False
        async with self.attempts.first(nonce) as first:
            if not first:
                record = await self._refresh(key, record)
                edit = await self._status_edit(record, state, review, archive, extras)
                if edit == ThreadEdit():
                    return False
            await self.patch(key, record, edit)
        return True

    async def _status_edit(
        self,
        record: ThreadRecord,
        state: str,
        review: str | None,
        archive: bool | None,
        extras: Extras,
    ) -> ThreadEdit:
        edit = ThreadEdit()
        if record.forum:
            channel = await self.discord.channel(record.channel_id)
            tags = status_tags(self.settings, channel, record.tags, state, review, extras)
            if tags != record.tags:
                edit = ThreadEdit(applied_tags=tags)
        # Say `archived` whenever we change anything: a tag edit alone on a thread already
        # archived would unarchive it (`patch`), leaving a merged PR open (seen in the soak).
        if archive is not None and (archive != record.archived or edit != ThreadEdit()):
            lock = self.settings.lock_on_close if archive else False
            locked = lock if lock != record.locked else None
            edit = ThreadEdit(archived=archive, locked=locked, applied_tags=edit.applied_tags)
        return edit

    async def _refresh(self, key: str, record: ThreadRecord) -> ThreadRecord:
        """Read the thread from Discord into the mapping (after a write whose answer was lost)."""
        thread = await self.discord.thread(record.thread_id)
        log.info("thread %s re-read after an earlier try of this step", thread.id)
        fields = {"name": thread.name, "archived": thread.archived, "locked": thread.locked}
        await self.records.update(key, **fields, tags=thread.applied_tags)
        return record.model_copy(update={**fields, "tags": thread.applied_tags})

    async def set_review(
        self, subject: Subject, reviewer: str, verdict: str | None, nonce: str | None = None
    ) -> bool:
        """Record a reviewer's verdict (None: dismissed); tag the post with the overall one."""
        stored = await self.records.field(subject.key, "verdicts") or ""
        verdicts = dict(p.split("=", 1) for p in stored.split(",") if "=" in p)
        if verdict:
            verdicts[reviewer] = verdict
        else:
            verdicts.pop(reviewer, None)
        await self.records.update(subject.key, verdicts=[f"{k}={v}" for k, v in verdicts.items()])
        # Changes requested by anyone outweigh approvals; a dismissal only removes its own.
        values = set(verdicts.values())
        overall = next((v for v in ("changes_requested", "approved") if v in values), "")
        return await self.set_state(subject, review=overall, nonce=nonce)

    async def patch(self, key: str, record: ThreadRecord, edit: ThreadEdit) -> ThreadInfo:
        """PATCH the thread (saying `archived: false` when it is archived); update the mapping."""
        # Any PATCH of an archived thread must say `archived: false` in the same request.
        if record.archived and edit.archived is None:
            edit = ThreadEdit(edit.name, False, edit.locked, edit.applied_tags)
        try:
            thread = await self.discord.edit_thread(record.thread_id, edit)
        except DiscordApiError as exc:
            if exc.code != THREAD_ARCHIVED:
                raise
            # Archived behind our back (auto-archive): unarchive, then apply the edit.
            await self.discord.edit_thread(record.thread_id, ThreadEdit(archived=False))
            thread = await self.discord.edit_thread(record.thread_id, edit)
        await self.records.update(
            key,
            name=thread.name,
            archived=thread.archived,
            locked=thread.locked,
            tags=thread.applied_tags,
        )
        return thread

    async def want_title(self, key: str, title: str) -> None:
        """Remember the latest title of the PR: the rename function applies only that one."""
        await self.records.update(key, title=title)

    async def apply_title(self, repo: str, number: int, nonce: str | None = None) -> str:
        """Rename the thread to the latest wanted title; say renamed, unchanged or no thread.

        A retry of the step `nonce` starts from the thread as Discord has it: the rename (or
        the archive after it) may have been made and its answer lost.
        """
        key = pr_key(repo, number)
        title = await self.records.field(key, "title")
        record = await self.find(repo, number)
        if record is None or not title:
            return "no thread" if record is None else "unchanged"
        template = name_template(self.settings, record.channel_id)
        name = render.thread_name(template, repo, number, title)
        async with self.attempts.first(nonce) as first:
            if not first:
                record = await self._refresh(key, record)
            return await self._rename(key, record, name)

    async def _rename(self, key: str, record: ThreadRecord, name: str) -> str:
        if name == record.name:  # maybe renamed by an attempt cut short before it re-archived
            await self.rearchive_if_closed(key, record.thread_id, record.archived)
            return "unchanged"
        if not record.archived:
            thread = await self.patch(key, record, ThreadEdit(name=name))
            await self.rearchive_if_closed(key, thread.id, thread.archived)
            return "renamed"
        # A closed PR's thread: rename (which must unarchive it), then archive it again.
        await self.patch(key, record, ThreadEdit(name=name, archived=False))
        await self.archive(key, record.thread_id)
        return "renamed"

    async def rearchive_if_closed(self, key: str, thread_id: int, archived: bool) -> None:
        """Archive the thread again when its PR is closed and the thread is not archived."""
        # Renames run beside the PR's queue: when the PR was closed while this one was on its
        # way, `patch` met the fresh archive, unarchived and renamed. Archive it again (the soak
        # and a restart test saw merged PRs left unarchived). The close writes `state` first.
        if not archived and await self.records.field(key, "state") in CLOSED_STATES:
            await self.archive(key, thread_id)

    async def archive(self, key: str, thread_id: int) -> None:
        """Archive the thread (already archived: fine)."""
        # Discord refuses to archive an archived thread (50083): then the close beat us to it.
        try:
            await self.discord.edit_thread(thread_id, ThreadEdit(archived=True))
        except DiscordApiError as exc:
            if exc.code != THREAD_ARCHIVED:
                raise
        await self.records.update(key, archived=True)

    async def count_commits(self, key: str, total: int | None) -> int | None:
        """Remember the PR's commit count; return how many are new since the last one seen."""
        if total is None:
            return None
        previous = await self.records.swap(key, "commits", str(total))
        if previous is None or not previous.isdigit() or total <= int(previous):
            return None
        return total - int(previous)

    async def check_forum_tags(self) -> None:
        """Warn at start about status tags missing from routed forum channels."""
        channels = {route(self.settings, r) for r in self.settings.repo_channels}
        channels.add(self.settings.discord_channel_id)
        for channel_id in sorted(c for c in channels if c is not None):
            channel = await self.discord.channel(channel_id)
            if channel.forum:
                for name in tag_names(self.settings).values():
                    if name.casefold() not in channel.tags:
                        warn_missing_tag(channel_id, name)


async def ensure_step(
    ctx: Context, threads: Threads, subject: Subject, create: bool
) -> Ensured | None:
    """Run find-or-create as the step `thread` (its intro nonce from the step `intro`)."""
    return await ctx.step.run("thread", threads.ensure, subject, create, ctx.step.nonce("intro"))


async def post_step(
    ctx: Context, threads: Threads, step_id: str, subject: Subject, message: OutMessage
) -> int:
    """Post `message` as the step `step_id`, with that step's nonce."""
    return await ctx.step.run(step_id, threads.post, subject, message, ctx.step.nonce(step_id))
