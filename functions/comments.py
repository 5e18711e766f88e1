"""Comments: PR conversation comments and review comments on a line, posted in the PR's thread."""

from __future__ import annotations

from bot.github.payloads import (
    Comment,
    IssueCommentEvent,
    ReviewCommentEvent,
    is_pr_comment,
    parse,
    pr_key_of_event,
    subject_of_issue,
    subject_of_pr,
)
from bot.prs import render
from bot.prs.deps import Deps
from bot.prs.mirror import has_marker, is_prbot_echo
from bot.prs.mirroring import identity, remember_review_message
from bot.prs.routing import skip_reason
from bot.prs.threads import DISCORD_RETRIES, Threads, ensure_step, post_step
from bot.runtime import Context, Function, Trigger, function

COMMENTS_ID = "pr-comments"
REVIEW_COMMENTS_ID = "pr-review-comments"


async def is_echo(ctx: Context, deps: Deps, comment: Comment) -> bool:
    """Tell whether a comment is one prbot mirrored from Discord (never posted back there)."""
    if not has_marker(comment.body):
        return False
    me = await ctx.step.run("identity", identity, deps.store)
    return is_prbot_echo(comment.body, comment.user.login, me)


def build(deps: Deps, threads: Threads) -> list[Function]:
    """Return the functions for PR comments and review comments."""

    # A comment is on a PR only when `issue.pull_request` exists: plain issues match no function.
    on_pr = Trigger("github/issue_comment.created", when=is_pr_comment)

    @function(COMMENTS_ID, on_pr, concurrency_key=pr_key_of_event, retries=DISCORD_RETRIES)
    async def comments(ctx: Context) -> str:
        event = parse(IssueCommentEvent, ctx.event.data)
        subject = subject_of_issue(event.repository, event.issue)
        create = skip_reason(deps.settings, subject) is None
        if await ensure_step(ctx, threads, subject, create) is None:
            return "no thread"
        c = event.comment
        if await is_echo(ctx, deps, c):
            return "not posted: prbot's own comment"
        await post_step(
            ctx, threads, "message", subject, render.comment(c.user.login, c.body, c.html_url)
        )
        return "posted"

    @function(
        REVIEW_COMMENTS_ID,
        "github/pull_request_review_comment.created",
        concurrency_key=pr_key_of_event,
        retries=DISCORD_RETRIES,
    )
    async def review_comments(ctx: Context) -> str:
        event = parse(ReviewCommentEvent, ctx.event.data)
        subject = subject_of_pr(event.repository, event.pull_request)
        create = skip_reason(deps.settings, subject) is None
        if await ensure_step(ctx, threads, subject, create) is None:
            return "no thread"
        c = event.comment
        if await is_echo(ctx, deps, c):
            return "not posted: prbot's own comment"
        where = render.review_location(c.path, c.line or c.original_line)
        message = render.comment(c.user.login, c.body, c.html_url, where)
        posted = await post_step(ctx, threads, "message", subject, message)
        # A Discord reply to this message goes into this review comment's thread.
        await ctx.step.run("remember", remember_review_message, deps.store, posted, c.id)
        return "posted"

    return [comments, review_comments]
