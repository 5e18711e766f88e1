"""Find-or-create a PR's thread: the mapping first, then the channel by exact prefix, then create.

Runs inside one durable step, under a per-PR lock, so no two runs make two threads or two intros.
The channel is searched only when the store may have lost the mapping: the PR is older than
the store's complete record of mappings (a wiped store, or a mapping expired long after the
close), or a creation started and was never recorded (its answer lost). Otherwise a missing
mapping means there is no thread, and making one costs the create alone (and, in a text
channel, the intro). The search reads the active threads, then the archived ones however old
(bot/prs/archive.py); when it finds nothing the PR is marked searched, so its next events
search no more.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TypedDict

from bot.discord import UNKNOWN_CHANNEL, ChannelInfo, DiscordApiError, ThreadEdit, ThreadInfo
from bot.github.payloads import Subject, pr_key
from bot.prs import card, render
from bot.prs.archive import ArchiveIndex
from bot.prs.deps import Deps
from bot.prs.effects import Attempts, post_once
from bot.prs.mapping import LOCK_TTL_MS, ThreadRecord, ThreadStore
from bot.prs.routing import name_template, route
from bot.prs.tags import status_tags
from bot.runtime import RetriableError, RetryAfterError

log = logging.getLogger(__name__)


class Ensured(TypedDict):
    """The result of the find-or-create step."""

    thread_id: int
    created: bool


class ThreadFinder:
    """Finds a PR's thread (re-adopting it from Discord when the mapping is gone) or makes it."""

    def __init__(self, deps: Deps, records: ThreadStore, attempts: Attempts) -> None:
        self.settings = deps.settings
        self.discord = deps.discord
        self.records = records
        self.attempts = attempts
        self.archive = ArchiveIndex(deps.store, deps.discord)

    async def find(
        self, repo: str, number: int, opened: datetime | None = None
    ) -> ThreadRecord | None:
        """Return the PR's thread from the mapping, or re-adopt it from the channel by prefix.

        `opened` is when the PR was opened, if known: a PR opened after the store began holding
        every mapping has none to re-adopt.
        """
        key = pr_key(repo, number)
        record = await self.records.get(key)
        if record is not None:
            return record
        channel_id = route(self.settings, repo)
        if channel_id is None or not await self.records.may_have_lost(key, opened):
            return None
        channel = await self.discord.channel(channel_id)
        prefix = render.thread_prefix(name_template(self.settings, channel_id), repo, number)
        thread = await self._search(channel, prefix)
        if thread is None:
            await self.records.searched(key, opened)
            return None
        record = ThreadRecord(
            thread_id=thread.id,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            forum=channel.forum,
            name=thread.name,
            archived=thread.archived,
            locked=thread.locked,
            tags=thread.applied_tags,
            # A forum post starts with its intro; an empty text thread still needs one (its
            # creation was cut short after Discord made it).
            intro=channel.forum or thread.messages_sent > 0,
            opened=None if opened is None else opened.timestamp(),
        )
        await self.records.put(key, record, adopted=True)
        log.info("re-adopted thread %s for %s", thread.id, key)
        return record

    async def _search(self, channel: ChannelInfo, prefix: str) -> ThreadInfo | None:
        for thread in await self.discord.active_threads(channel):
            if render.has_prefix(thread.name, prefix):
                return thread
        return await self.archive.find(channel.id, prefix)

    async def ensure(self, subject: Subject, create: bool, intro_nonce: str) -> Ensured | None:
        """Find the PR's thread, or create it (with its intro) when `create`; None: no thread."""
        record = await self.records.get(subject.key)
        if record is not None and record.intro:
            return Ensured(thread_id=record.thread_id, created=False)  # steady state: no lock
        # Find-or-create under a per-PR lock, so runs of different functions (or processes)
        # never make two threads or two intros; a run that finds it held retries shortly. The
        # token is the run's intro nonce (derived from run and step), so the same run resumed
        # after a crash re-enters the lock its dead attempt left instead of waiting out its TTL.
        token = intro_nonce
        if not await self.records.lock(subject.key, token, LOCK_TTL_MS):
            raise RetriableError(f"{subject.key}: another run is finding or creating its thread")
        try:
            return await self._ensure(subject, create, intro_nonce)
        finally:
            await self.records.unlock(subject.key, token)

    async def _ensure(self, subject: Subject, create: bool, intro_nonce: str) -> Ensured | None:
        # Read before `find`: a creation cut short earlier means a twin may still turn up.
        cut_short = await self.records.pending(subject.key)
        record = await self.find(subject.repo, subject.number, subject.created_at)
        created = False
        if record is None:
            if not create:
                return None
            record = await self._create(subject, cut_short)
            if record is None:
                return None
            created = True
        if not record.intro:
            intro = card.intro(subject)
            message_id = await post_once(
                self.discord, self.attempts, record.thread_id, intro, intro_nonce, None
            )
            # The intro is the PR's card: remember which message it is and what it shows.
            await self.records.update(
                subject.key, intro=True, last_message=message_id, intro_id=message_id,
                card=card.digest(intro),
            )  # fmt: skip
        return Ensured(thread_id=record.thread_id, created=created)

    async def _create(self, subject: Subject, cut_short: bool) -> ThreadRecord | None:
        channel_id = route(self.settings, subject.repo)
        if channel_id is None:
            log.warning("no channel for %s: set DISCORD_CHANNEL_ID or REPO_CHANNELS", subject.repo)
            return None
        channel = await self.discord.channel(channel_id)
        template = name_template(self.settings, channel_id)
        name = render.thread_name(template, subject.repo, subject.number, subject.title)
        state = "draft" if subject.draft else "open"
        minutes = self.settings.thread_auto_archive_minutes
        # Recorded before the POST: if its answer is lost, whoever comes next searches first.
        await self.records.creating(subject.key, subject.created_at)
        try:
            if channel.forum:
                tags = status_tags(self.settings, channel, (), state, None)
                intro = card.intro(subject)
                thread = await self.discord.create_forum_post(
                    channel.id, name, intro, minutes, tags
                )
            else:
                thread = await self.discord.create_thread(channel.id, name, minutes)
        except (DiscordApiError, RetryAfterError):
            if not cut_short:  # refused, so nothing was made: no search needed next time
                await self.records.update(subject.key, creating="")
            raise
        if cut_short:  # an earlier creation's POST may land after our search: retire it
            prefix = render.thread_prefix(template, subject.repo, subject.number)
            await self._retire_duplicates(channel, prefix, thread.id)
        record = ThreadRecord(
            thread_id=thread.id,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            forum=channel.forum,
            name=thread.name,
            state=state,
            tags=thread.applied_tags,
            intro=channel.forum,  # a forum post's first message is the intro
            title=subject.title,
            last_message=thread.id if channel.forum else None,  # the starter has the post's id
            opened=subject.created_at.timestamp() if subject.created_at else None,
        )
        await self.records.put(subject.key, record)
        if channel.forum:  # the starter message is the card (its id is the post's)
            await self.records.update(subject.key, card=card.digest(card.intro(subject)))
        log.info("created thread %s for %s in channel %s", thread.id, subject.key, channel.id)
        return record

    async def _retire_duplicates(self, channel: ChannelInfo, prefix: str, keep: int) -> None:
        # An earlier attempt's creation lost its answer and we found nothing before creating:
        # if that POST was only late (a stalled worker, a slow proxy), its thread is a twin.
        # Rename it out of the prefix and archive it.
        for thread in await self.discord.active_threads(channel):
            if thread.id != keep and render.has_prefix(thread.name, prefix):
                log.warning("retiring duplicate thread %s (kept %s)", thread.id, keep)
                name = render.clip(f"duplicate {thread.name}", render.NAME_MAX)
                edit = ThreadEdit(name=name, archived=True, locked=True)
                await self.discord.edit_thread(thread.id, edit)

    async def require(self, subject: Subject, nonce: str) -> ThreadRecord:
        await self.ensure(subject, True, nonce + "i")
        record = await self.records.get(subject.key)
        if record is None:
            raise DiscordApiError("find-or-create", 404, UNKNOWN_CHANNEL, "no thread for the PR")
        return record
