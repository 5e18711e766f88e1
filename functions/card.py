"""The live PR card: keep what PR and review deliveries say, then edit the card, coalesced.

`pr-card-facts` runs for every `pull_request` and `pull_request_review` delivery (in the PR's
order), keeps what it says and asks for a refresh. `pr-card` is debounced per PR: a burst of
refreshes (20 check runs in two seconds) makes one run, `DEBOUNCE_S` after the last, and at
most `MAX_WAIT_S` after the first; it edits the card only when it changed, tags the forum post
and says once per check name and head commit that a check failed.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict

from bot.github.checks import Check
from bot.github.payloads import parse, pr_key, pr_key_of
from bot.prs.card import failing
from bot.prs.cards import CLOSED, Cards, CardView, installation_of
from bot.runtime import Context, Debounce, Event, Function, function

FACTS_ID = "pr-card-facts"
CARD_ID = "pr-card"
REFRESH_EVENT = "prbot/card.refresh"
DEBOUNCE_S = 2.0
MAX_WAIT_S = 10.0
REVIEW_ACTIONS = ("submitted", "edited", "dismissed")


class CardRequest(BaseModel):
    """The data of a refresh: which PR, and the App installation that reaches it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    repo: str
    number: int
    installation_id: int | None = None


def card_key(event: Event) -> str | None:
    """Return the PR key of a refresh (the PR's own concurrency key)."""
    try:
        request = CardRequest.model_validate(event.data)
    except ValueError:
        return None
    return pr_key(request.repo, request.number)


def refresh(repo: str, number: int, installation_id: int | None) -> Event:
    """Return the event that asks for a PR's card to be shown again."""
    data = {"repo": repo, "number": number, "installation_id": installation_id}
    return Event(name=REFRESH_EVENT, data=data)


def failed_step(check: Check) -> str:
    """Return the step id of the message about one failing check (stable for its name)."""
    return "failed:" + hashlib.blake2b(check.key.encode(), digest_size=8).hexdigest()


def build(cards: Cards) -> list[Function]:
    """Return the functions that keep the card's facts and show the card."""

    @function(
        FACTS_ID,
        ["github/pull_request.*", "github/pull_request_review.*"],
        concurrency_key=lambda e: pr_key_of(e.data),
    )
    async def facts(ctx: Context) -> str:
        data = ctx.event.data
        action = str(data.get("action", ""))
        if ctx.event.name.startswith("github/pull_request_review."):
            if action not in REVIEW_ACTIONS:
                return f"ignored: {action}"
            await ctx.step.run("facts", cards.note_review, data)
        else:
            await ctx.step.run("facts", cards.note_pull, data)
        key = pr_key_of(data)
        assert key is not None  # the trigger's payloads all name a PR
        repo, _, number = key.rpartition("#")
        await ctx.step.send_event("refresh", refresh(repo, int(number), installation_of(data)))
        return "noted"

    debounce = Debounce(DEBOUNCE_S, key=card_key, max_wait_s=MAX_WAIT_S)

    @function(CARD_ID, REFRESH_EVENT, concurrency_key=card_key, debounce=debounce)
    async def show(ctx: Context) -> str:
        request = parse(CardRequest, ctx.event.data)
        view = await ctx.step.run(
            "view", cards.view, request.repo, request.number, request.installation_id
        )
        if view is None:
            return "no thread"
        shown: str = await ctx.step.run("card", cards.show, view)
        await ctx.step.run("tags", cards.tags, view, ctx.step.nonce("tags"))
        card = CardView.model_validate(view)
        if card.facts.status not in CLOSED:
            for check in failing(card.checks):
                sid = failed_step(check)
                await ctx.step.run(sid, cards.announce, view, check.key, ctx.step.nonce(sid))
        return shown

    return [facts, show]
