"""What the webhooks told prbot about a PR and its commits, kept for the card.

- `data:card:<pr key>` holds the PR's `Facts` (JSON), merged from every delivery about it;
- `data:checks:<owner/repo>@<sha>` holds the commit's checks, one field per check name, from the
  CI deliveries, whether or not prbot knew the commit's PR yet;
- `data:heads:<owner/repo>@<sha>` holds the PRs whose head the commit is (`opened`,
  `synchronize`, `reopened`...), since a CI delivery for a PR from a fork names no PR.

Every record expires some time after its last write: a PR that changes refreshes its own.
"""

from __future__ import annotations

from pydantic import ValidationError

from bot.github.checks import Check
from bot.prs.card import Facts
from bot.runtime import Store

DAY_MS = 24 * 3_600_000
FACTS_TTL_MS = 90 * DAY_MS
COMMIT_TTL_MS = 30 * DAY_MS


class FactStore:
    """PR facts, checks per commit, and the head commit -> PR index."""

    def __init__(self, store: Store) -> None:
        self.data = store.data

    async def facts(self, key: str) -> Facts | None:
        """Return the PR's facts, None when none were kept."""
        raw = await self.data.field("card", key, "facts")
        if not raw:
            return None
        try:
            return Facts.model_validate_json(raw)
        except ValidationError:
            return None

    async def save(self, key: str, facts: Facts) -> None:
        """Keep the PR's facts."""
        await self.data.update("card", key, {"facts": facts.model_dump_json()}, FACTS_TTL_MS)

    async def index_head(self, repo: str, sha: str, number: int) -> None:
        """Remember that commit `sha` is the head of PR `number`."""
        await self.data.update("heads", f"{repo}@{sha}", {str(number): "1"}, COMMIT_TTL_MS)

    async def prs_of(self, repo: str, sha: str) -> list[int]:
        """Return the PRs whose head commit `sha` was seen to be."""
        found = await self.data.get("heads", f"{repo}@{sha}")
        return sorted(int(n) for n in found if n.isdigit())

    async def add_check(self, repo: str, sha: str, check: Check) -> bool:
        """Keep a check of the commit unless a later report of it is kept; True if kept.

        Runs one at a time per commit (the CI function's concurrency key), so read-then-write
        is safe here.
        """
        name = f"{repo}@{sha}"
        raw = await self.data.field("checks", name, check.key)
        if raw:
            try:
                if not check.supersedes(Check.model_validate_json(raw)):
                    return False
            except ValidationError:
                pass
        await self.data.update("checks", name, {check.key: check.model_dump_json()}, COMMIT_TTL_MS)
        return True

    async def checks(self, repo: str, sha: str) -> list[Check]:
        """Return the commit's checks as the deliveries reported them."""
        found = []
        for raw in (await self.data.get("checks", f"{repo}@{sha}")).values():
            try:
                found.append(Check.model_validate_json(raw))
            except ValidationError:
                continue
        return found
