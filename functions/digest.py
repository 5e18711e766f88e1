"""The daily digest: on each `DIGEST_CRON` tick, the open PRs waiting for review in one message.

The runtime claims each tick once across workers and names the run after it; the message is
posted with that run's nonce through an exactly-once claim, so a retried or resumed run finds
its own message instead of posting a second. Nothing is posted when nothing waits.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from bot.github.payloads import parse
from bot.prs import render
from bot.prs.awaiting import Awaiting, AwaitingIndex
from bot.prs.deps import Deps
from bot.prs.effects import Attempts, post_once
from bot.prs.mapping import ThreadStore
from bot.runtime import Context, Cron, Function, function

FUNCTION_ID = "review-digest"
THREAD_LINK = "https://discord.com/channels/{guild}/{thread}"


class Tick(BaseModel):
    """The data of a cron tick event."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    tick_ms: int


class Listed(Awaiting):
    """A waiting PR with the link the digest gives it: its thread, else the PR on GitHub."""

    link: str


async def gather(deps: Deps, index: AwaitingIndex) -> list[dict[str, Any]]:
    """Return the waiting PRs, oldest first, each with a link to its thread (as JSON)."""
    records = ThreadStore(deps.store)
    guilds: dict[int, int | None] = {}
    listed = []
    for entry in await index.all():
        link = entry.url
        record = await records.get(entry.key)
        if record is not None:
            if record.channel_id not in guilds:
                guilds[record.channel_id] = (await deps.discord.channel(record.channel_id)).guild_id
            guild = guilds[record.channel_id]
            if guild is not None:
                link = THREAD_LINK.format(guild=guild, thread=record.thread_id)
        listed.append(Listed(**entry.model_dump(), link=link).model_dump(mode="json"))
    return listed


def build(deps: Deps, index: AwaitingIndex, cron: Cron, channel_id: int) -> Function:
    """Return the digest function on `cron`, posting in the text channel `channel_id`."""
    attempts = Attempts(deps.store)

    @function(FUNCTION_ID, cron, retries=6)
    async def digest(ctx: Context) -> str:
        tick = parse(Tick, ctx.event.data)
        # Saved: a retry posts (or finds) exactly the message its first try meant to post.
        found = await ctx.step.run("gather", gather, deps, index)
        entries = [Listed.model_validate(item) for item in found]
        message = render.digest(entries, tick.tick_ms)
        if message is None:
            return "nothing waits for review"
        nonce = ctx.step.nonce("post")
        await ctx.step.run("post", post_once, deps.discord, attempts, channel_id, message, nonce,
                           None)  # fmt: skip
        return f"{len(entries)} waiting"

    return digest
