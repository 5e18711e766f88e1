"""The review index: which open PRs wait for review, kept from GitHub's own events.

Registered only when reminders or the digest are on (they read it). It runs in the PR's queue
(the PR concurrency key), so a PR's entry changes in the order its events arrived and a reminder
checking the index sees every review that arrived before it.
"""

from __future__ import annotations

from bot.github.payloads import PullRequestEvent, ReviewEvent, parse, pr_key_of_event
from bot.prs.awaiting import PR_ACTIONS, AwaitingIndex, after_pr_event, after_review
from bot.runtime import Context, Event, Function, Trigger, function

FUNCTION_ID = "pr-review-index"


def _pr_action(event: Event) -> bool:
    return event.data.get("action") in PR_ACTIONS


async def _apply(index: AwaitingIndex, ctx: Context, now_ms: int) -> str:
    key = pr_key_of_event(ctx.event)
    if key is None:
        return "not about a pull request"
    before = await index.get(key)
    if ctx.event.name.startswith("github/pull_request_review."):
        after = after_review(parse(ReviewEvent, ctx.event.data), before)
    else:
        after = after_pr_event(parse(PullRequestEvent, ctx.event.data), before, now_ms)
    if after != before:
        await index.put(key, after)
    return "waits for review" if after else "does not wait for review"


def build(index: AwaitingIndex) -> Function:
    """Return the index function on pull_request and submitted review events."""
    triggers = [
        Trigger("github/pull_request.*", when=_pr_action),
        Trigger("github/pull_request_review.submitted"),
    ]

    @function(FUNCTION_ID, triggers, concurrency_key=pr_key_of_event)
    async def review_index(ctx: Context) -> str:
        # One step: a retried run reads the entry its earlier try may have written, and
        # writes the same thing again (the decision keeps `since` from the entry).
        return await ctx.step.run("index", _apply, index, ctx, ctx.event.ts)

    return review_index
