"""The live PR card: keep what deliveries say, read the PR back (from the API when prbot has
access), edit the thread's first message when the card changed, tag the forum post, and say
once per check name and head commit that a check failed.

Each public method is one durable step's work. The edit compares with what the card last
showed (`card`, a digest in the thread's record) and writes the whole card: repeating it after
a lost answer writes the same again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from bot.github.api import GitHubAdapter
from bot.github.checks import Check, checks_of_api, ci_of
from bot.github.payloads import (
    PullRequestEvent,
    ReviewEvent,
    Subject,
    User,
    parse,
    pr_key,
    subject_of_pr,
)
from bot.github.shapes import GitHubApiError, Pull, RepoRef
from bot.prs import card
from bot.prs.card import Facts
from bot.prs.deps import Deps
from bot.prs.facts import COMMIT_TTL_MS, FactStore
from bot.prs.mapping import ThreadRecord
from bot.prs.messages import ThreadMessages
from bot.prs.threads import Threads
from bot.runtime import RetriableError, RetryAfterError

log = logging.getLogger(__name__)

CLOSED = ("merged", "closed")


class CardView(BaseModel):
    """A card to show: the PR's facts and its head commit's checks (a step's saved result)."""

    facts: Facts
    checks: list[Check] = []


def installation_of(data: Mapping[str, Any]) -> int | None:
    """Return the App installation a delivery names (None for a repository webhook)."""
    found = RepoRef.of_payload(data)
    return found.installation_id if found else None


class Cards:
    """Facts from deliveries, the card from them or from the API, and its edits on Discord."""

    def __init__(self, deps: Deps, threads: Threads) -> None:
        self.github: GitHubAdapter | None = deps.github
        self.data = deps.store.data
        self.facts = FactStore(deps.store)
        self.threads = threads
        self.records = threads.records
        self.messages = ThreadMessages(threads)

    # -- what deliveries say ---------------------------------------------------------------------

    async def note_pull(self, data: Mapping[str, Any]) -> None:
        """Keep what a `pull_request` delivery says; index its head commit."""
        event = parse(PullRequestEvent, data)
        subject = subject_of_pr(event.repository, event.pull_request)
        facts = await self._merged(subject, installation_of(data))
        facts = facts.with_pull_request(event.pull_request)
        who = event.requested_reviewer.login if event.requested_reviewer else None
        if who and event.action == "review_request_removed":
            facts = facts.model_copy(update={"requested": _without(facts.requested, who)})
        await self.facts.save(subject.key, facts)
        if facts.head_sha:
            await self.facts.index_head(subject.repo, facts.head_sha, subject.number)

    async def note_review(self, data: Mapping[str, Any]) -> None:
        """Keep a review's verdict (and what its payload says of the PR)."""
        event = parse(ReviewEvent, data)
        subject = subject_of_pr(event.repository, event.pull_request)
        facts = await self._merged(subject, installation_of(data))
        review = event.review
        state = "dismissed" if event.action == "dismissed" else review.state
        await self.facts.save(subject.key, facts.with_review(review.user.login, state))

    async def _merged(self, subject: Subject, installation_id: int | None) -> Facts:
        kept = await self.facts.facts(subject.key)
        facts = Facts.of_subject(subject) if kept is None else kept.with_subject(subject)
        if installation_id is not None:
            facts = facts.model_copy(update={"installation_id": installation_id})
        return facts

    async def note_ci(self, event_name: str, data: Mapping[str, Any]) -> list[int]:
        """Keep a CI delivery's check for its commit; return the PRs whose head it is."""
        found = ci_of(event_name, data)
        if found is None:
            return []
        if found.check is not None:
            await self.facts.add_check(found.repo, found.sha, found.check)
        indexed = await self.facts.prs_of(found.repo, found.sha)
        return sorted(set(found.prs) | set(indexed))

    # -- the card ----------------------------------------------------------------------------------

    async def view(
        self, repo: str, number: int, installation_id: int | None = None, api: bool = True
    ) -> dict[str, Any] | None:
        """Return the card to show (JSON): from the API with access, else from deliveries."""
        key = pr_key(repo, number)
        if await self.records.get(key) is None:
            return None  # no thread, no card: nothing to ask GitHub
        kept = await self.facts.facts(key)
        if self.github is not None and api:
            iid = installation_id or (kept.installation_id if kept else None)
            try:
                found = await self._from_api(RepoRef.parse(repo, iid), number)
            except GitHubApiError as exc:  # refused for good: show what deliveries said
                log.warning("card of %s from deliveries: GitHub refused (%s)", key, exc)
            else:
                await self.facts.save(key, found.facts)
                return found.model_dump(mode="json")
        if kept is None:
            return None
        checks = await self.facts.checks(repo, kept.head_sha) if kept.head_sha else []
        return CardView(facts=kept, checks=card.latest(checks)).model_dump(mode="json")

    async def show_now(self, data: Mapping[str, Any]) -> str:
        """Keep a `pull_request` delivery's facts and show the card now (the PR is closing).

        From the API when prbot has it; when GitHub fails, from the deliveries: closing the
        thread must not wait for GitHub.
        """
        await self.note_pull(data)
        event = parse(PullRequestEvent, data)
        repo, number = event.repository.full_name, event.pull_request.number
        try:
            view = await self.view(repo, number, installation_of(data))
        except (RetriableError, RetryAfterError) as exc:
            log.warning("card of %s#%s from deliveries: GitHub failed (%s)", repo, number, exc)
            view = await self.view(repo, number, installation_of(data), api=False)
        return "no thread" if view is None else await self.show(view)

    async def _from_api(self, repo: RepoRef, number: int) -> CardView:
        assert self.github is not None
        pull = await self.github.get_pull(repo, number)
        reviews = await self.github.list_reviews(repo, number)
        runs = await self.github.check_runs(repo, pull.head.sha)
        combined = await self.github.combined_status(repo, pull.head.sha)
        verdicts = card.verdicts_of((r.user.login, r.state) for r in reviews if r.user)
        facts = facts_of_pull(repo, pull, verdicts)
        return CardView(facts=facts, checks=card.latest(checks_of_api(runs, combined)))

    async def show(self, view: Mapping[str, Any]) -> str:
        """Edit the thread's first message to show the card, unless it shows it already."""
        shown = CardView.model_validate(view)
        facts = shown.facts
        key = pr_key(facts.repo, facts.number)
        record = await self.records.get(key)
        if record is None or not record.intro:
            return "no thread"
        message = card.render(facts, shown.checks)
        digest = card.digest(message)
        if await self.records.field(key, "card") == digest:
            return "unchanged"
        intro_id = await self._intro_id(key, record, facts.number)
        if intro_id is None:
            return "no card message"
        if not await self.messages.edit(key, record, intro_id, message):
            log.warning("the card of %s (message %s) is gone", key, intro_id)
            await self.records.update(key, intro_id="", card="")
            return "card message gone"
        await self.records.update(key, card=digest)
        return "edited"

    async def _intro_id(self, key: str, record: ThreadRecord, number: int) -> int | None:
        if record.forum:  # a forum post's starter message has the post's id
            return record.thread_id
        stored = await self.records.field(key, "intro_id")
        if stored:
            return int(stored)
        # A thread made before prbot kept this (or re-adopted): the intro is its first message.
        for posted in await self.threads.discord.own_messages(record.thread_id, record.thread_id):
            title = posted.embeds[0].title if posted.embeds else None
            if title and title.startswith(f"#{number} "):
                await self.records.update(key, intro_id=posted.id)
                return posted.id
        return None

    async def tags(self, view: Mapping[str, Any], nonce: str) -> bool:
        """Tag a forum post `checks failing` while a check fails, and with its labels."""
        shown = CardView.model_validate(view)
        facts = shown.facts
        closed = facts.status in CLOSED
        failing = bool(card.failing(shown.checks)) and not closed
        archive = True if closed else None  # a closed PR's post stays archived
        return await self.threads.set_extras(
            facts.repo, facts.number, failing, facts.labels, archive, nonce
        )

    async def announce(self, view: Mapping[str, Any], check_key: str, nonce: str) -> str:
        """Post that a check failed on the head commit, once per check name and commit."""
        shown = CardView.model_validate(view)
        facts = shown.facts
        key = pr_key(facts.repo, facts.number)
        check = next(c for c in shown.checks if c.key == check_key)
        if facts.head_sha is None or await self.records.get(key) is None:
            return "no thread"
        # Claimed by this step's nonce (re-entered by its retries): any other run that finds
        # the claim knows the message was posted, or is being posted, by this one.
        claim = f"announced:{key}:{facts.head_sha}:{check.key}"
        if not await self.data.lock(claim, nonce, COMMIT_TTL_MS):
            return "said before"
        subject = Subject(repo=facts.repo, number=facts.number, title=facts.title,
                          url=facts.url, author=User(login=facts.author))  # fmt: skip
        await self.threads.post(subject, card.check_failed(check, facts.head_sha), nonce)
        return "posted"


def facts_of_pull(repo: RepoRef, pull: Pull, verdicts: dict[str, str]) -> Facts:
    """Return the card's facts as the API tells them."""
    a, d, f = pull.additions, pull.deletions, pull.changed_files
    size = None if a is None or d is None or f is None else (a, d, f)
    requested = tuple(u.login for u in pull.requested_reviewers if u.login)
    requested += tuple(f"@{t.slug}" for t in pull.requested_teams)
    return Facts(
        repo=repo.full_name,
        number=pull.number,
        title=pull.title,
        url=pull.html_url,
        author=pull.user.login,
        body=card.kept_body(pull.body),
        labels=tuple(label.name for label in pull.labels),
        draft=pull.draft,
        state=pull.state,
        merged=pull.merged,
        base=pull.base.ref,
        head=pull.head.label or pull.head.ref,
        head_sha=pull.head.sha,
        size=size,
        requested=requested,
        verdicts=verdicts,
        installation_id=repo.installation_id,
    )


def _without(names: tuple[str, ...], name: str) -> tuple[str, ...]:
    return tuple(n for n in names if n.casefold() != name.casefold())
