"""The backlink: with API access and GITHUB_BACKLINK, one comment per PR linking its thread.

Runs after each card refresh (debounced the same way, on a concurrency key of its own so a
GitHub rate limit never holds the PR's queue); once the PR is linked to its current thread, a
run reads one field and stops.
"""

from __future__ import annotations

from bot.github.payloads import parse
from bot.prs.backlink import Backlinks
from bot.runtime import Context, Debounce, Event, Function, function
from functions.card import DEBOUNCE_S, MAX_WAIT_S, REFRESH_EVENT, CardRequest, card_key

FUNCTION_ID = "pr-backlink"
# Rate limits reschedule the run (each wait counts as an attempt): room for a few.
RETRIES = 8


def backlink_key(event: Event) -> str | None:
    """Return the backlink's concurrency key `<pr key>:backlink`."""
    key = card_key(event)
    return None if key is None else key + ":backlink"


def build(backlinks: Backlinks) -> Function:
    """Return the backlink function on card refreshes."""
    debounce = Debounce(DEBOUNCE_S, key=card_key, max_wait_s=MAX_WAIT_S)

    @function(
        FUNCTION_ID, REFRESH_EVENT, concurrency_key=backlink_key, debounce=debounce,
        retries=RETRIES,
    )  # fmt: skip
    async def backlink(ctx: Context) -> str:
        request = parse(CardRequest, ctx.event.data)
        done: str = await ctx.step.run(
            "link", backlinks.link, request.repo, request.number, request.installation_id
        )
        return done

    return backlink
