"""Comments: PR conversation comments and review comments on a line, posted in the PR's thread."""

from __future__ import annotations

from bot.github.payloads import (
    Comment,
    IssueCommentEvent,
    ReviewCommentEvent,
    Subject,
    is_pr_comment,
    parse,
    pr_key_of_event,
    subject_of_issue,
    subject_of_pr,
)
from bot.github.shapes import RepoRef
from bot.prs import render
from bot.prs.deps import Deps
from bot.prs.messages import Links
from bot.prs.mirror import has_marker, is_prbot_echo
from bot.prs.mirroring import identity, remember_review_message
from bot.prs.routing import skip_reason
from bot.prs.threads import DISCORD_RETRIES, Threads, ensure_step, post_step
from bot.runtime import Context, Function, Trigger, function
from functions.card import refresh

COMMENTS_ID = "pr-comments"
REVIEW_COMMENTS_ID = "pr-review-comments"


async def is_echo(ctx: Context, deps: Deps, comment: Comment) -> bool:
    """Tell whether prbot made this comment (a backlink, a mirrored Discord message).

    GitHub tells prbot of its own comments too: they are never posted back into Discord. The
    App's own hand is enough; otherwise the marker, from prbot's identity once it is known (a
    person quoting a marker is still heard).
    """
    app = comment.performed_via_github_app
    if app is not None and app.id == deps.settings.github_app_id:
        return True
    if not has_marker(comment.body):
        return False
    me = await ctx.step.run("identity", identity, deps.store)
    return is_prbot_echo(comment.body, comment.user.login, me)


def build(deps: Deps, threads: Threads) -> list[Function]:
    """Return the functions for PR comments and review comments."""

    # A comment is on a PR only when `issue.pull_request` exists: plain issues match no function.
    on_pr = Trigger("github/issue_comment.created", when=is_pr_comment)

    links = Links(deps.store)

    async def post(ctx: Context, subject: Subject, kind: str, c: Comment, where: str | None) -> int:
        """Post the comment in the PR's thread (0: no thread); remember which message it is."""
        create = skip_reason(deps.settings, subject) is None
        ensured = await ensure_step(ctx, threads, subject, create)
        if ensured is None:
            return 0
        if ensured["created"]:  # show the card and link back (a PR event may never come)
            installation = RepoRef.of_payload(ctx.event.data)
            iid = installation.installation_id if installation else None
            await ctx.step.send_event("refresh", refresh(subject.repo, subject.number, iid))
        message = render.comment(c.user.login, c.body, c.html_url, where)
        message_id = await post_step(ctx, threads, "message", subject, message)
        await ctx.step.run(
            "link", links.remember_posted, threads.records, subject.key, kind, c.id, message_id
        )
        return message_id

    @function(COMMENTS_ID, on_pr, concurrency_key=pr_key_of_event, retries=DISCORD_RETRIES)
    async def comments(ctx: Context) -> str:
        event = parse(IssueCommentEvent, ctx.event.data)
        if await is_echo(ctx, deps, event.comment):
            return "not posted: prbot's own comment"
        subject = subject_of_issue(event.repository, event.issue)
        return "posted" if await post(ctx, subject, "comment", event.comment, None) else "no thread"

    @function(
        REVIEW_COMMENTS_ID,
        "github/pull_request_review_comment.created",
        concurrency_key=pr_key_of_event,
        retries=DISCORD_RETRIES,
    )
    async def review_comments(ctx: Context) -> str:
        event = parse(ReviewCommentEvent, ctx.event.data)
        c = event.comment
        if await is_echo(ctx, deps, c):
            return "not posted: prbot's own comment"
        subject = subject_of_pr(event.repository, event.pull_request)
        where = render.review_location(c.path, c.line or c.original_line)
        posted = await post(ctx, subject, "review_comment", c, where)
        if not posted:
            return "no thread"
        # A Discord reply to this message goes into this review comment's thread.
        await ctx.step.run("remember", remember_review_message, deps.store, posted, c.id)
        return "posted"

    return [comments, review_comments]
