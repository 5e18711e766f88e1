"""The backlink: one comment by prbot on each PR that links its Discord thread, and the echo guard.

Exactly one, whatever happens: a comment POST whose answer was lost may still have made the
comment, and GitHub has no idempotency key, so the step always looks for its own comment (by
its marker, among prbot's comments) before it posts; a retry, a redelivery or a run resumed
after a crash finds it and adopts it. The thread it linked is kept in the thread's record
(`backlink`), so later runs cost nothing; a new thread (the old one was deleted) edits it.

GitHub sends a webhook for every comment prbot makes; `is_prbot_comment` tells them apart, so
they are never posted back into Discord (which would also reopen archived threads).
"""

from __future__ import annotations

import logging

from bot.github.api import GitHubAdapter
from bot.github.payloads import Comment, pr_key
from bot.github.shapes import GitHubApiError, IssueComment, RepoRef
from bot.prs.deps import Deps
from bot.prs.mapping import ThreadStore
from bot.runtime import NonRetriableError
from bot.settings import Settings

log = logging.getLogger(__name__)

MARKER_PREFIX = "<!-- prbot:"
THREAD_MARKER = "<!-- prbot:thread -->"


def thread_url(guild_id: int, thread_id: int) -> str:
    """Return the Discord link of a thread."""
    return f"https://discord.com/channels/{guild_id}/{thread_id}"


def backlink_body(guild_id: int, thread_id: int) -> str:
    """Return the backlink comment: the marker, then the thread's link."""
    link = thread_url(guild_id, thread_id)
    return f"{THREAD_MARKER}\n💬 This pull request is discussed on Discord: {link}"


def is_prbot_comment(settings: Settings, comment: Comment) -> bool:
    """Tell whether prbot made this comment: its marker, or the App's own hand."""
    if MARKER_PREFIX in (comment.body or ""):
        return True
    app = comment.performed_via_github_app
    return app is not None and app.id == settings.github_app_id


def is_ours(comment: IssueComment, me: str) -> bool:
    """Tell whether a comment was written by prbot's account (`me`: the token's user or App)."""
    user = comment.user.login if comment.user else None
    app = comment.performed_via_github_app.slug if comment.performed_via_github_app else None
    return me in (user, app) or user == f"{me}[bot]"


class Backlinks:
    """Make, find or fix each PR's backlink comment."""

    def __init__(self, deps: Deps, records: ThreadStore) -> None:
        self._github = deps.github  # None in a process that only plans runs (the receiver)
        self.discord = deps.discord
        self.records = records
        self._me: str | None = None

    @property
    def github(self) -> GitHubAdapter:
        """Return the GitHub door (a worker always has one when backlinks are on)."""
        if self._github is None:
            raise NonRetriableError("no GitHub API access in this process")
        return self._github

    async def me(self) -> str:
        """Return who prbot is on GitHub: the token's user, or the App's slug (asked once)."""
        if self._me is None:
            self._me = (await self.github.account.identity()).name
        return self._me

    async def link(self, repo: str, number: int, installation_id: int | None) -> str:
        """Make sure the PR has exactly one backlink to its current thread; say what was done."""
        key = pr_key(repo, number)
        record = await self.records.get(key)
        if record is None:
            return "no thread"
        if await self.records.field(key, "backlink") == str(record.thread_id):
            return "linked"
        guild_id = (await self.discord.channel(record.channel_id)).guild_id
        if guild_id is None:
            return "no guild"
        body = backlink_body(guild_id, record.thread_id)
        ref = RepoRef.parse(repo, installation_id)
        try:
            outcome = await self._write(ref, number, body)
        except GitHubApiError as exc:
            # A refusal (no permission, locked conversation) is for `prbot check` to explain,
            # not an alert per PR event; the next change of the PR tries again.
            log.warning("backlink of %s refused by GitHub: %s", key, exc)
            return f"refused ({exc.status})"
        await self.records.update(key, backlink=record.thread_id)
        log.info("backlink of %s: %s", key, outcome)
        return outcome

    async def _write(self, repo: RepoRef, number: int, body: str) -> str:
        found = await self.find(repo, number)
        if found is None:
            made = await self.github.create_comment(repo, number, body)
            return f"commented {made.id}"
        if found.body != body:
            await self.github.edit_comment(repo, found.id, body)
            return f"edited {found.id}"
        return f"found {found.id}"

    async def find(self, repo: RepoRef, number: int) -> IssueComment | None:
        """Return prbot's backlink comment on the PR, if there is one."""
        me = await self.me()
        async for comment in self.github.comments(repo, number):
            if THREAD_MARKER in comment.body and is_ours(comment, me):
                return comment
        return None
