"""Mirror Discord thread replies to GitHub exactly once: claim, find, post, record.

The store keeps, per Discord message, the GitHub comment that mirrors it (`mirror/<id>`), and
for messages prbot posted from inline review comments the review comment they came from
(`mirror-review/<id>`), so a Discord reply to one goes into that review thread. Before posting,
a step claims the Discord message id (one `SET NX`): a later attempt that finds the claim taken
follows a try whose answer was lost or whose worker died, and looks for the marker on GitHub
before posting again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from bot.github.api import GitHubAdapter
from bot.github.shapes import GitHubApiError, RepoRef
from bot.prs.mirror import Reply, marker
from bot.prs.users import UserMap
from bot.runtime import RetryAfterError, Store

log = logging.getLogger(__name__)

KIND = "mirror"
REVIEW_KIND = "mirror-review"
SELF = "self"  # the record of who prbot is on GitHub (the author of what it posts)
# Long enough that an edit or a delete weeks later still finds the comment.
TTL_MS = 90 * 24 * 3600 * 1000


async def identity(store: Store) -> str | None:
    """Return the GitHub login prbot's comments are authored by, once it posted one."""
    return await store.data.field(KIND, SELF, "login")


async def remember_review_message(store: Store, message_id: int, review_comment_id: int) -> None:
    """Note that Discord message `message_id` shows review comment `review_comment_id`."""
    fields = {"id": str(review_comment_id)}
    await store.data.update(REVIEW_KIND, str(message_id), fields, TTL_MS)


class Mirror:
    """Post, edit and delete the GitHub comments that mirror Discord messages."""

    def __init__(self, store: Store, github: GitHubAdapter, users: UserMap) -> None:
        self.data = store.data
        self.github = github
        self.users = users

    async def logins(self, discord_ids: Iterable[int]) -> dict[str, str]:
        """Return the linked GitHub login of each mentioned member who has one."""
        found: dict[str, str] = {}
        for discord_id in discord_ids:
            login = await self.users.login_of(discord_id)
            if login:
                found[str(discord_id)] = login
        return found

    async def post(self, reply: Reply, body: str) -> dict[str, str]:
        """Comment `body` for `reply` once; return the record {kind, id} of the comment."""
        done = await self.data.get(KIND, str(reply.message_id))
        if done.get("id"):
            return done
        review_id = await self._review_target(reply.reply_to)
        repo = RepoRef.parse(reply.repo)
        token = uuid.uuid4().hex
        first = await self.data.lock(f"{KIND}:{reply.message_id}", token, TTL_MS)
        if first:  # an edit or delete that finds this and no id looks on GitHub
            await self.data.update(KIND, str(reply.message_id), {"claimed": "1"}, TTL_MS)
        else:
            found = await self._find(repo, reply.number, reply.message_id)
            if found is not None:
                log.info("Discord message %s was mirrored by an earlier try", reply.message_id)
                return await self._record(reply.message_id, *found)
        try:
            kind, made_id, author = await self._create(repo, reply.number, review_id, body)
        except (GitHubApiError, RetryAfterError):
            if first:  # refused or never carried out: nothing to find on the next try
                await self.data.unlock(f"{KIND}:{reply.message_id}", token)
            raise
        if author:
            await self.data.update(KIND, SELF, {"login": author})
        return await self._record(reply.message_id, kind, made_id)

    async def edit(self, reply: Reply, body: str) -> str:
        """Edit the comment mirroring `reply`; say what happened."""
        repo = RepoRef.parse(reply.repo)
        record = await self._lookup(repo, reply.number, reply.message_id)
        if record is None:
            return "not mirrored"
        kind, comment_id = record
        try:
            if kind == "review":
                await self.github.edit_review_comment(repo, comment_id, body)
            else:
                await self.github.edit_comment(repo, comment_id, body)
        except GitHubApiError as exc:
            if exc.status == 404:
                return "comment gone"
            raise
        return "edited"

    async def delete(self, repo_name: str, number: int, message_id: int) -> str:
        """Delete the comment mirroring Discord message `message_id`; say what happened."""
        repo = RepoRef.parse(repo_name)
        record = await self._lookup(repo, number, message_id)
        if record is None:
            return "not mirrored"
        kind, comment_id = record
        if kind == "review":
            gone = await self.github.delete_review_comment(repo, comment_id)
        else:
            gone = await self.github.delete_comment(repo, comment_id)
        await self.data.update(KIND, str(message_id), {"deleted": "1"}, TTL_MS)
        return "deleted" if gone else "already gone"

    async def _review_target(self, reply_to: int | None) -> int | None:
        if reply_to is None:
            return None
        found = await self.data.field(REVIEW_KIND, str(reply_to), "id")
        return int(found) if found else None

    async def _create(
        self, repo: RepoRef, number: int, review_id: int | None, body: str
    ) -> tuple[str, int, str | None]:
        if review_id is not None:
            try:
                made = await self.github.reply_to_review_comment(repo, number, review_id, body)
                return "review", made.id, made.user.login if made.user else None
            except GitHubApiError as exc:
                # The review comment was deleted (or its thread cannot take replies): say it in
                # the conversation instead of losing the message.
                log.warning("replying to review comment %s failed (%s)", review_id, exc)
        comment = await self.github.create_comment(repo, number, body)
        return "issue", comment.id, comment.user.login if comment.user else None

    async def _find(self, repo: RepoRef, number: int, message_id: int) -> tuple[str, int] | None:
        mark = marker(message_id)
        comment = await self.github.find_comment(repo, number, mark)
        if comment is not None:
            return "issue", comment.id
        review = await self.github.find_review_comment(repo, number, mark)
        return ("review", review.id) if review is not None else None

    async def _record(self, message_id: int, kind: str, comment_id: int) -> dict[str, str]:
        record = {"kind": kind, "id": str(comment_id)}
        await self.data.update(KIND, str(message_id), record, TTL_MS)
        return record

    async def _lookup(self, repo: RepoRef, number: int, message_id: int) -> tuple[str, int] | None:
        record = await self.data.get(KIND, str(message_id))
        if record.get("deleted"):
            return None
        if record.get("id"):
            return record.get("kind", "issue"), int(record["id"])
        # Claimed but never recorded: a create whose worker died may still have happened.
        if record.get("claimed"):
            found = await self._find(repo, number, message_id)
            if found is not None:
                await self._record(message_id, *found)
            return found
        return None
