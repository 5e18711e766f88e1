"""Discord follows what GitHub changes: edited or deleted comments, edited or dismissed reviews.

prbot keeps which Discord message it posted for each GitHub comment or review; an `edited`
delivery rewrites that message, `deleted` deletes it, a dismissal marks the review dismissed.
Both are the same whole write on a retry, so nothing needs finding first.
"""

from __future__ import annotations

from bot.discord import OutMessage
from bot.github.payloads import (
    IssueCommentEvent,
    ReviewCommentEvent,
    ReviewEvent,
    is_pr_comment,
    parse,
    pr_key_of,
    pr_key_of_event,
)
from bot.prs import render
from bot.prs.deps import Deps
from bot.prs.messages import ThreadMessages
from bot.runtime import Context, Function, Trigger, function

FUNCTION_ID = "pr-mirror"
COMMENT, REVIEW_COMMENT, REVIEW = "comment", "review_comment", "review"


def build(deps: Deps, messages: ThreadMessages) -> Function:
    """Return the function that mirrors GitHub's edits and deletions onto prbot's messages."""

    triggers: list[str | Trigger] = [
        Trigger("github/issue_comment.edited", when=is_pr_comment),
        Trigger("github/issue_comment.deleted", when=is_pr_comment),
        "github/pull_request_review_comment.edited",
        "github/pull_request_review_comment.deleted",
        "github/pull_request_review.edited",
        "github/pull_request_review.dismissed",
    ]

    @function(FUNCTION_ID, triggers, concurrency_key=pr_key_of_event)
    async def mirror(ctx: Context) -> str:
        key = pr_key_of(ctx.event.data)
        assert key is not None  # every trigger names a PR
        if ctx.event.name == "github/pull_request_review.dismissed":
            r = parse(ReviewEvent, ctx.event.data).review
            dismissed: str = await ctx.step.run(
                "mirror", messages.dismiss, key, r.id, r.user.login, r.body, r.html_url
            )
            return dismissed
        kind, github_id, message = change_of(deps, ctx.event.name, ctx.event.data)
        done: str = await ctx.step.run("mirror", messages.follow, key, kind, github_id, message)
        return done

    return mirror


def change_of(deps: Deps, name: str, data: dict[str, object]) -> tuple[str, int, OutMessage | None]:
    """Return (kind, GitHub id, the message now, None to delete) for an edit or deletion."""
    if name.startswith("github/issue_comment."):
        event = parse(IssueCommentEvent, data)
        c = event.comment
        text = render.comment(c.user.login, c.body, c.html_url)
        return COMMENT, c.id, None if event.action == "deleted" else text
    if name.startswith("github/pull_request_review_comment."):
        rc = parse(ReviewCommentEvent, data)
        c = rc.comment
        where = render.review_location(c.path, c.line or c.original_line)
        text = render.comment(c.user.login, c.body, c.html_url, where)
        return REVIEW_COMMENT, c.id, None if rc.action == "deleted" else text
    review = parse(ReviewEvent, data)
    r = review.review
    state = r.state.lower()
    author = review.pull_request.user.login
    text = render.review(state, r.user.login, r.body, r.html_url, author, deps.discord_id(author))
    return REVIEW, r.id, text
