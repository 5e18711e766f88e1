"""Review reminders: ping the requested reviewers of a ready PR that nobody has reviewed yet.

A run starts when a PR asks for review (opened or reopened with reviewers, ready for review, a
review request added or removed) and waits, parked off the PR's queue, for a submitted review:
`REVIEW_REMINDER_AFTER` without one and it posts a reminder in the thread, up to 3 times. A
review by anyone but the author ends the wait. Closing, merging or turning the PR into a draft
cancels the run (`cancel_on`), and so does the next start for the same PR: the newest chain
wins, so the opened, ready and review-requested deliveries of one PR never remind in parallel.
"""

from __future__ import annotations

from bot.github.payloads import PullRequestEvent, parse, pr_key_of_event, subject_of_pr
from bot.prs import render
from bot.prs.awaiting import STARTS, AwaitingIndex, asks_for_review, counts_as_review, reviewers_of
from bot.prs.deps import Deps
from bot.prs.routing import skip_reason
from bot.prs.threads import DISCORD_RETRIES, Threads, ensure_step, post_step
from bot.runtime import Cancel, Context, Event, Function, function

FUNCTION_ID = "pr-review-reminders"
MAX_REMINDERS = 3
REVIEWED = "github/pull_request_review.submitted"
# The PR's page is the same in pull_request and review payloads, and unique across repositories.
SAME_PR = "data.pull_request.html_url"
ENDS = ("closed", "converted_to_draft")


def by_someone_else(trigger: Event, review: Event) -> bool:
    """Tell whether a submitted review answers the request: its author's own reply does not."""
    author = trigger.data.get("pull_request", {}).get("user", {}).get("login", "")
    reviewer = review.data.get("review", {}).get("user", {}).get("login", "")
    return counts_as_review(str(reviewer), str(author))


def build(deps: Deps, threads: Threads, index: AwaitingIndex, after_s: float) -> Function:
    """Return the reminder function, reminding `after_s` seconds after each unanswered wait."""
    starts = [f"github/pull_request.{action}" for action in STARTS]
    cancels = [Cancel(f"github/pull_request.{a}", match=SAME_PR) for a in (*ENDS, *STARTS)]

    @function(
        FUNCTION_ID, starts, concurrency_key=pr_key_of_event, cancel_on=cancels,
        retries=DISCORD_RETRIES,
    )  # fmt: skip
    async def reminders(ctx: Context) -> str:
        event = parse(PullRequestEvent, ctx.event.data)
        pr = event.pull_request
        if not asks_for_review(pr):
            return "not waiting for review"
        subject = subject_of_pr(event.repository, pr)
        users, teams = reviewers_of(pr)
        pinged = [(login, deps.discord_id(login)) for login in users]
        for n in range(1, MAX_REMINDERS + 1):
            review = await ctx.step.wait_for_event(
                f"review-{n}", event=REVIEWED, match=SAME_PR, timeout_s=after_s,
                if_=by_someone_else,
            )  # fmt: skip
            if review is not None:
                return f"reviewed by {review.data['review']['user']['login']}"
            # A review that came while this run was busy between two waits is in the index.
            if not await ctx.step.run(f"still-{n}", _still_waiting, index, subject.key):
                return "reviewed"
            if n == 1:
                create = skip_reason(deps.settings, subject) is None
                if await ensure_step(ctx, threads, subject, create) is None:
                    return "no thread"
            message = render.review_reminder(pinged, teams, after_s * n, n, MAX_REMINDERS)
            await post_step(ctx, threads, f"reminder-{n}", subject, message)
        return f"reminded {MAX_REMINDERS} times"

    return reminders


async def _still_waiting(index: AwaitingIndex, pr: str) -> bool:
    return await index.get(pr) is not None
