"""Thread lifecycle: one thread per PR, following it from opened to merged, closed and reopened."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.discord import OutMessage
from bot.github.payloads import PullRequestEvent, Subject, parse, pr_key_of_event, subject_of_pr
from bot.prs import render
from bot.prs.cards import Cards
from bot.prs.deps import Deps
from bot.prs.routing import skip_reason
from bot.prs.threads import DISCORD_RETRIES, Threads, ensure_step, post_step
from bot.runtime import Context, Event, Function, function
from functions.rename import RENAME_EVENT

FUNCTION_ID = "pr-thread-lifecycle"


@dataclass(frozen=True)
class PrRun:
    """One run of the lifecycle: its context, the parsed delivery and the services it uses."""

    ctx: Context
    deps: Deps
    threads: Threads
    cards: Cards
    event: PullRequestEvent
    subject: Subject

    @property
    def sender(self) -> str:
        """Return who did it."""
        return self.event.sender.login

    async def thread(self, create: bool = True) -> bool | None:
        """Find or create the thread (filters permitting); True if created, None if no thread."""
        allowed = create and skip_reason(self.deps.settings, self.subject) is None
        ensured = await ensure_step(self.ctx, self.threads, self.subject, allowed)
        return None if ensured is None else ensured["created"]

    async def say(self, step_id: str, message: OutMessage) -> None:
        """Post a message as the step `step_id`."""
        await post_step(self.ctx, self.threads, step_id, self.subject, message)

    async def status(
        self, state: str | None = None, review: str | None = None, archive: bool | None = None
    ) -> None:
        """Apply the status (forum tags, archived) as the step `status`."""
        nonce = self.ctx.step.nonce("status")
        await self.ctx.step.run(
            "status", self.threads.set_state, self.subject, state, review, archive, nonce
        )

    async def rename_later(self) -> None:
        """Remember the title and ask the rename function to apply it (coalesced, rate-safe)."""
        await self.ctx.step.run(
            "want-title", self.threads.want_title, self.subject.key, self.subject.title
        )
        data = {"repo": self.subject.repo, "number": self.subject.number}
        await self.ctx.step.send_event("rename", Event(name=RENAME_EVENT, data=data))


async def opened(r: PrRun) -> str:
    """Create the thread with its intro (or find the one a comment already made)."""
    created = await r.thread()
    if created is None:
        return "skipped: " + (skip_reason(r.deps.settings, r.subject) or "no channel")
    commits = r.event.pull_request.commits
    await r.ctx.step.run("commits", r.threads.count_commits, r.subject.key, commits)
    if not created:
        await r.rename_later()  # made earlier from another payload: make sure the name is current
    return "opened"


async def edited(r: PrRun) -> str:
    """Rename the thread when the title changed."""
    if r.event.changes is None or r.event.changes.title is None:
        return "ignored: no title change"
    await r.rename_later()
    return "rename requested"


async def _draft_change(r: PrRun, message: OutMessage, state: str, outcome: str) -> str:
    """Say the draft state changed (unless the thread was just made for it); tag it."""
    created = await r.thread()
    if created is None:
        return "no thread"
    if not created:
        await r.say("message", message)
    await r.status(state=state)
    return outcome


async def converted_to_draft(r: PrRun) -> str:
    """Say the PR is a draft again; tag it in forum mode."""
    return await _draft_change(r, render.draft(r.sender), "draft", "draft")


async def ready_for_review(r: PrRun) -> str:
    """Say the PR is ready (in draft-quiet mode this is where its thread is made)."""
    return await _draft_change(r, render.ready(r.sender), "open", "ready")


async def review_requested(r: PrRun) -> str:
    """Name the requested reviewer or team, pinging the mapped Discord user."""
    if await r.thread() is None:
        return "no thread"
    reviewer = r.event.requested_reviewer.login if r.event.requested_reviewer else None
    team = r.event.requested_team.name if r.event.requested_team else None
    user_id = await r.ctx.step.run("discord-user", r.deps.user_map.discord_id, reviewer)
    await r.say("message", render.review_requested(r.sender, reviewer, team, user_id))
    return "review requested"


async def closed(r: PrRun) -> str:
    """Say merged by / closed by, then archive (and lock when LOCK_ON_CLOSE)."""
    if await r.thread(create=False) is None:
        return "no thread"
    pr = r.event.pull_request
    merged = bool(pr.merged)
    by = pr.merged_by.login if merged and pr.merged_by else r.sender
    await r.say("message", render.closed(merged, by))
    # The card shows merged or closed before the thread is archived: Discord edits nothing
    # in an archived thread, and the debounced card run would have to unarchive it.
    await r.ctx.step.run("card", r.cards.show_now, r.ctx.event.data)
    await r.status(state="merged" if merged else "closed", archive=True)
    return "merged" if merged else "closed"


async def reopened(r: PrRun) -> str:
    """Unarchive (with `archived: false`), then say it was reopened."""
    if await r.thread() is None:
        return "no thread"
    await r.status(state="draft" if r.subject.draft else "open", archive=False)
    await r.say("message", render.reopened(r.sender))
    return "reopened"


async def labels_changed(r: PrRun) -> str:
    """Make the thread when a label change lets the PR have one (EXCLUDED_LABELS)."""
    created = await r.thread()
    if created is None:
        return "skipped: " + (skip_reason(r.deps.settings, r.subject) or "no channel")
    return "thread made" if created else "labels (the card follows)"


async def synchronize(r: PrRun) -> str:
    """Say "N new commits" when NOTIFY_SYNCHRONIZE is on."""
    if not r.deps.settings.notify_synchronize:
        return "ignored: NOTIFY_SYNCHRONIZE is off"
    if await r.thread(create=False) is None:
        return "no thread"
    total = r.event.pull_request.commits
    count = await r.ctx.step.run("commits", r.threads.count_commits, r.subject.key, total)
    await r.say("message", render.new_commits(r.sender, count, r.subject.url))
    return "commits"


ACTIONS: dict[str, Callable[[PrRun], Awaitable[str]]] = {
    "opened": opened,
    "edited": edited,
    "converted_to_draft": converted_to_draft,
    "ready_for_review": ready_for_review,
    "review_requested": review_requested,
    "closed": closed,
    "reopened": reopened,
    "synchronize": synchronize,
    "labeled": labels_changed,
    "unlabeled": labels_changed,
}


def build(deps: Deps, threads: Threads, cards: Cards) -> Function:
    """Return the lifecycle function on `github/pull_request.*`."""

    @function(
        FUNCTION_ID, "github/pull_request.*", concurrency_key=pr_key_of_event,
        retries=DISCORD_RETRIES,
    )  # fmt: skip
    async def lifecycle(ctx: Context) -> str:
        event = parse(PullRequestEvent, ctx.event.data)
        action = ACTIONS.get(event.action)
        if action is None:
            return f"ignored: {event.action}"
        subject = subject_of_pr(event.repository, event.pull_request)
        return await action(PrRun(ctx, deps, threads, cards, event, subject))

    return lifecycle
