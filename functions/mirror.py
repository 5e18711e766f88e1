"""Thread replies → PR comments: each human message in a PR thread becomes one GitHub comment.

A Discord edit edits the comment and a delete deletes it. One PR's messages are mirrored one
at a time in the order they were written, and each thread at most `THROTTLE.limit` per
`THROTTLE.period_s` (later ones wait their turn, none is dropped), to stay well inside GitHub's
secondary rate limits (80 content-creating requests a minute, 500 an hour):
https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from bot.github.payloads import parse
from bot.prs.answers import Target
from bot.prs.inbox import CREATED, DELETED, UPDATED, message_url
from bot.prs.mirror import Author, Reply, comment_body, mentioned_ids, skip_reason
from bot.prs.mirroring import Mirror
from bot.prs.threads import DISCORD_RETRIES
from bot.runtime import Context, Event, Function, Throttle, function

FUNCTION_ID = "discord-mirror"
THROTTLE = Throttle(limit=10, period_s=60.0, key="data.thread_id")


class Deleted(BaseModel):
    """A `discord/message.deleted` event."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    repo: str
    number: int
    message_id: int


def by_pr(event: Event) -> str | None:
    """Run one PR's mirroring one at a time, in the order the messages came."""
    pr = event.data.get("pr")
    return pr if isinstance(pr, str) else None


async def body_of(mirror: Mirror, reply: Reply) -> str:
    """Return the comment body of `reply`, mentions of linked members as their logins."""
    found = await mirror.logins(mentioned_ids(reply))
    return comment_body(reply, {int(k): v for k, v in found.items()})


async def mirror_reply(ctx: Context, mirror: Mirror, reply: Reply) -> dict[str, str]:
    """Post `reply` as one comment (or find the one posted); return its record {kind, id}."""
    body = await ctx.step.run("body", body_of, mirror, reply)
    return await ctx.step.run("comment", mirror.post, reply, body)


def reply_of_target(pr: str, guild_id: int | None, target: Target) -> Reply:
    """Return the message a `Post to PR` command names, as the mirror takes it."""
    repo, _, number = pr.rpartition("#")
    return Reply(
        pr=pr,
        repo=repo,
        number=int(number),
        message_id=target.id,
        thread_id=target.channel_id,
        url=message_url(guild_id, target.channel_id, target.id),
        author=Author(
            id=target.author_id,
            name=target.author_name,
            bot=target.author_bot,
            webhook_id=target.webhook_id,
        ),
        content=target.content,
    )


def build(mirror: Mirror) -> Function:
    """Return the function mirroring `discord/message.*` events to GitHub."""

    @function(
        FUNCTION_ID, [CREATED, UPDATED, DELETED], concurrency_key=by_pr, throttle=THROTTLE,
        retries=DISCORD_RETRIES,
    )  # fmt: skip
    async def mirror_messages(ctx: Context) -> str:
        if ctx.event.name == DELETED:
            gone = parse(Deleted, ctx.event.data)
            return await ctx.step.run(
                "delete", mirror.delete, gone.repo, gone.number, gone.message_id
            )
        reply = parse(Reply, ctx.event.data)
        why = skip_reason(reply)
        if why is not None:
            return f"not mirrored: {why}"
        if ctx.event.name == UPDATED:
            body = await ctx.step.run("body", body_of, mirror, reply)
            return await ctx.step.run("edit", mirror.edit, reply, body)
        record = await mirror_reply(ctx, mirror, reply)
        return f"posted {record['kind']} comment {record['id']}"

    return mirror_messages
