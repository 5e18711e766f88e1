"""Reviews: approved, changes requested or commented, and dismissals, in the PR's thread."""

from __future__ import annotations

from bot.github.payloads import ReviewEvent, parse, pr_key_of_event, subject_of_pr
from bot.prs import render
from bot.prs.deps import Deps
from bot.prs.messages import Links
from bot.prs.routing import skip_reason
from bot.prs.threads import DISCORD_RETRIES, Threads, ensure_step, post_step
from bot.runtime import Context, Function, function

FUNCTION_ID = "pr-reviews"
VERDICTS = ("approved", "changes_requested")


def build(deps: Deps, threads: Threads) -> Function:
    """Return the reviews function on `github/pull_request_review.*`."""

    links = Links(deps.store)

    @function(
        FUNCTION_ID, "github/pull_request_review.*", concurrency_key=pr_key_of_event,
        retries=DISCORD_RETRIES,
    )  # fmt: skip
    async def reviews(ctx: Context) -> str:
        event = parse(ReviewEvent, ctx.event.data)
        review = event.review
        state = review.state.lower()
        if event.action not in ("submitted", "dismissed"):
            return f"ignored: {event.action}"
        if (
            event.action == "submitted"
            and state == "commented"
            and not render.body_text(review.body)
        ):
            return "ignored: empty comment review (its line comments are posted on their own)"
        subject = subject_of_pr(event.repository, event.pull_request)
        create = skip_reason(deps.settings, subject) is None
        if await ensure_step(ctx, threads, subject, create) is None:
            return "no thread"
        if event.action == "dismissed":
            # Never reported as changes requested: a dismissal clears the review status.
            message = render.review_dismissed(
                review.user.login, event.sender.login, review.html_url
            )
            await post_step(ctx, threads, "message", subject, message)
            await ctx.step.run(
                "status",
                threads.set_review,
                subject,
                review.user.login,
                None,
                ctx.step.nonce("status"),
            )
            return "dismissed"
        author = subject.author.login
        author_id = await ctx.step.run("discord-user", deps.user_map.discord_id, author)
        message = render.review(
            state, review.user.login, review.body, review.html_url, author, author_id
        )
        message_id = await post_step(ctx, threads, "message", subject, message)
        await ctx.step.run(
            "link", links.remember_posted, threads.records, subject.key, "review", review.id,
            message_id, state,
        )  # fmt: skip
        if state in VERDICTS:
            await ctx.step.run(
                "status",
                threads.set_review,
                subject,
                review.user.login,
                state,
                ctx.step.nonce("status"),
            )
        return state

    return reviews
