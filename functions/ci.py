"""CI deliveries: keep each check of a commit and refresh the cards of the PRs it heads.

`check_run`, `check_suite`, `status` and `workflow_run` run one at a time per commit. The PRs
come from the payload and from the head commit -> PR index, since a PR from a fork is named by
none of them (and `status` names no PR at all). A commit no PR is known to head yet keeps its
checks: the PR's `opened` or `synchronize` finds them when it refreshes its card.
"""

from __future__ import annotations

from bot.github.checks import ci_of, commit_key
from bot.prs.cards import Cards, installation_of
from bot.runtime import Context, Function, function
from functions.card import refresh

FUNCTION_ID = "pr-ci"
TRIGGERS = [
    "github/check_run.*",
    "github/check_suite.*",
    "github/status",
    "github/workflow_run.*",
]


def build(cards: Cards) -> Function:
    """Return the CI function."""

    @function(FUNCTION_ID, TRIGGERS, concurrency_key=commit_key)
    async def ci(ctx: Context) -> str:
        found = ci_of(ctx.event.name, ctx.event.data)
        if found is None:
            return "ignored: not a CI payload prbot reads"
        prs: list[int] = await ctx.step.run("checks", cards.note_ci, ctx.event.name,
                                            ctx.event.data)  # fmt: skip
        if not prs:
            return "no known PR"
        iid = installation_of(ctx.event.data)
        await ctx.step.send_event("refresh", [refresh(found.repo, n, iid) for n in prs])
        return "refreshed " + ", ".join(f"#{n}" for n in prs)

    return ci
