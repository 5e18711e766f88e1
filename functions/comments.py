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
from bot.prs.backlink import is_prbot_comment
from bot.prs.deps import Deps
from bot.prs.messages import Links
from bot.prs.routing import skip_reason
from bot.prs.threads import Threads, ensure_step, post_step
from bot.runtime import Context, Function, Trigger, function
from functions.card import refresh

COMMENTS_ID = "pr-comments"
REVIEW_COMMENTS_ID = "pr-review-comments"


def build(deps: Deps, threads: Threads) -> list[Function]:
    """Return the functions for PR comments and review comments."""

    # A comment is on a PR only when `issue.pull_request` exists: plain issues match no function.
    on_pr = Trigger("github/issue_comment.created", when=is_pr_comment)

    links = Links(deps.store)

    async def post(ctx: Context, subject: Subject, kind: str, c: Comment, where: str | None) -> str:
        if is_prbot_comment(deps.settings, c):
            # GitHub tells prbot of its own comments too: never post them back into Discord.
            return "ignored: prbot's own comment"
        create = skip_reason(deps.settings, subject) is None
        ensured = await ensure_step(ctx, threads, subject, create)
        if ensured is None:
            return "no thread"
        if ensured["created"]:  # show the card and link back (a PR event may never come)
            installation = RepoRef.of_payload(ctx.event.data)
            iid = installation.installation_id if installation else None
            await ctx.step.send_event("refresh", refresh(subject.repo, subject.number, iid))
        message = render.comment(c.user.login, c.body, c.html_url, where)
        message_id = await post_step(ctx, threads, "message", subject, message)
        await ctx.step.run(
            "link", links.remember_posted, threads.records, subject.key, kind, c.id, message_id
        )
        return "posted"

    @function(COMMENTS_ID, on_pr, concurrency_key=pr_key_of_event)
    async def comments(ctx: Context) -> str:
        event = parse(IssueCommentEvent, ctx.event.data)
        subject = subject_of_issue(event.repository, event.issue)
        return await post(ctx, subject, "comment", event.comment, None)

    @function(
        REVIEW_COMMENTS_ID,
        "github/pull_request_review_comment.created",
        concurrency_key=pr_key_of_event,
    )
    async def review_comments(ctx: Context) -> str:
        event = parse(ReviewCommentEvent, ctx.event.data)
        subject = subject_of_pr(event.repository, event.pull_request)
        c = event.comment
        where = render.review_location(c.path, c.line or c.original_line)
        return await post(ctx, subject, "review_comment", c, where)

    return [comments, review_comments]
