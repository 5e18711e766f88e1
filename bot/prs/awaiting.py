"""Which open PRs wait for review: decided from pull_request and review events, kept in a hash.

A PR waits for review while it is open, ready (not a draft), has requested reviewers or teams,
and nobody but its author has submitted a review since it started waiting. A new review request
or ready-for-review starts the wait again. The index lives in the store (`data:review:waiting`,
one field per PR key: the JSON of `Awaiting`, or empty once the PR no longer waits) so the digest
lists the waiting PRs without asking GitHub, and reminders check it before they ping anyone.
An emptied field stays (a hash field cannot expire alone): about 30 bytes per PR ever indexed.
"""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.github.payloads import PullRequest, PullRequestEvent, ReviewEvent, pr_key
from bot.runtime import Store

KIND, NAME = "review", "waiting"
# The pull_request actions that can change whether a PR waits (or its title).
PR_ACTIONS = frozenset(
    {
        "opened",
        "reopened",
        "ready_for_review",
        "converted_to_draft",
        "review_requested",
        "review_request_removed",
        "closed",
        "edited",
    }
)
# Those that start (or restart) a wait when the PR is ready and has reviewers to ask.
STARTS = ("opened", "reopened", "ready_for_review", "review_requested", "review_request_removed")


class Awaiting(BaseModel):
    """A PR waiting for review, as the digest lists it."""

    model_config = ConfigDict(frozen=True)

    repo: str
    number: int
    title: str
    url: str
    author: str
    since_ms: int  # when it started waiting, by GitHub's clock
    reviewers: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """Return the PR key `<owner>/<repo>#<number>`."""
        return pr_key(self.repo, self.number)


def reviewers_of(pr: PullRequest) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return the logins and team names whose review the PR still asks for."""
    users = tuple(r.login for r in pr.requested_reviewers if r.login)
    teams = tuple(t.name for t in pr.requested_teams)
    teams += tuple(r.name for r in pr.requested_reviewers if not r.login and r.name)
    return users, teams


def asks_for_review(pr: PullRequest) -> bool:
    """Tell whether a PR is open, ready and asks someone for a review."""
    users, teams = reviewers_of(pr)
    return pr.state == "open" and not pr.draft and bool(users or teams)


def counts_as_review(reviewer: str, author: str) -> bool:
    """Tell whether a submitted review answers the request (an author's own reply does not)."""
    return reviewer.casefold() != author.casefold()


def _ms(when: datetime | None, fallback_ms: int) -> int:
    return int(when.timestamp() * 1000) if when is not None else fallback_ms


def after_pr_event(
    event: PullRequestEvent, before: Awaiting | None, now_ms: int
) -> Awaiting | None:
    """Return the PR's entry after a pull_request event (None: it does not wait)."""
    pr, action = event.pull_request, event.action
    if action == "edited":
        return None if before is None else before.model_copy(update={"title": pr.title})
    if action not in STARTS or not asks_for_review(pr):
        return None
    users, teams = reviewers_of(pr)
    since = before.since_ms if before is not None else _ms(pr.updated_at, now_ms)
    return Awaiting(
        repo=event.repository.full_name, number=pr.number, title=pr.title, url=pr.html_url,
        author=pr.user.login, since_ms=since, reviewers=users, teams=teams,
    )  # fmt: skip


def after_review(event: ReviewEvent, before: Awaiting | None) -> Awaiting | None:
    """Return the PR's entry after a review event: a submitted review ends the wait."""
    if event.action != "submitted":
        return before
    author = event.pull_request.user.login
    return None if counts_as_review(event.review.user.login, author) else before


class AwaitingIndex:
    """The waiting PRs in the store; each PR's entry is written only by its own (serial) runs."""

    def __init__(self, store: Store) -> None:
        self.data = store.data

    async def get(self, pr: str) -> Awaiting | None:
        """Return the PR's entry, None when it does not wait."""
        return _parse(await self.data.field(KIND, NAME, pr))

    async def put(self, pr: str, entry: Awaiting | None) -> None:
        """Write the PR's entry (None: it no longer waits)."""
        await self.data.update(KIND, NAME, {pr: entry.model_dump_json() if entry else ""})

    async def all(self) -> list[Awaiting]:
        """Return every waiting PR, oldest first."""
        found = [_parse(raw) for raw in (await self.data.get(KIND, NAME)).values()]
        return sorted((a for a in found if a is not None), key=lambda a: (a.since_ms, a.key))


def _parse(raw: str | None) -> Awaiting | None:
    if not raw:
        return None
    try:
        return Awaiting.model_validate(json.loads(raw))
    except (ValueError, ValidationError):
        return None
