"""Coalesced renames: apply only the latest title, and wait out Discord's rename limit.

Discord allows 2 renames per thread per 10 minutes and answers a third with 429 and
retry_after ≈ 600 s. A separate function (its own concurrency key `<pr key>:rename`) takes that
wait, so the PR's comments and lifecycle messages are never held behind it.

Not `debounce`: every run applies the latest title, so a burst of edits already costs one PATCH
per name actually different, and the first edit lands at once. A debounce would delay every
rename by its period to save renames only inside bursts, and the 429 wait is needed anyway.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from bot.github.payloads import parse, pr_key
from bot.prs.threads import Threads
from bot.runtime import Context, Event, Function, function

FUNCTION_ID = "pr-thread-rename"
RENAME_EVENT = "prbot/pr.rename"
# A RetryAfter counts as an attempt: leave room for a few 10-minute waits.
RENAME_RETRIES = 10


class RenameRequest(BaseModel):
    """The data of a rename event: which PR (the title is read from the store)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    repo: str
    number: int


def rename_key(event: Event) -> str | None:
    """Return the rename concurrency key `<owner>/<repo>#<number>:rename`."""
    try:
        request = RenameRequest.model_validate(event.data)
    except ValueError:
        return None
    return pr_key(request.repo, request.number) + ":rename"


def build(threads: Threads) -> Function:
    """Return the rename function on `prbot/pr.rename`."""

    @function(FUNCTION_ID, RENAME_EVENT, concurrency_key=rename_key, retries=RENAME_RETRIES)
    async def rename(ctx: Context) -> str:
        request = parse(RenameRequest, ctx.event.data)
        # Reads the latest wanted title when it runs: a run delayed by the limit applies the
        # newest title, and later runs find the name already right and do nothing.
        result: str = await ctx.step.run(
            "rename", threads.apply_title, request.repo, request.number, ctx.step.nonce("rename")
        )
        return result

    return rename
