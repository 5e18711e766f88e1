"""Which PRs wait for review, decided from recorded events, and the index that keeps them."""

from __future__ import annotations

from typing import Any

import pytest

from bot.github.payloads import PullRequestEvent, ReviewEvent
from bot.ops.fixtures import load_delivery, scenarios_dir
from bot.prs.awaiting import Awaiting, AwaitingIndex, after_pr_event, after_review
from bot.runtime import Store


def payload(scenario: str, stem: str, **changes: Any) -> dict[str, Any]:
    """Return a recorded payload, with top-level or pull_request fields changed."""
    data: dict[str, Any] = load_delivery(scenarios_dir() / scenario / f"{stem}.json").payload()
    for name, value in changes.items():
        target = data if name in data and name != "pull_request" else data["pull_request"]
        target[name] = value
    return data


def pr_event(scenario: str, stem: str, **changes: Any) -> PullRequestEvent:
    """Return a recorded pull_request event."""
    return PullRequestEvent.model_validate(payload(scenario, stem, **changes))


def review_event(stem: str, **review: Any) -> ReviewEvent:
    """Return a recorded review of #42, its review fields changed."""
    data = payload("pr-lifecycle", stem)
    data["review"].update(review)
    return ReviewEvent.model_validate(data)


def test_a_review_request_on_a_ready_pr_starts_the_wait_with_githubs_time() -> None:
    entry = after_pr_event(pr_event("pr-lifecycle", "05-review-requested"), None, 0)
    assert entry is not None
    assert (entry.key, entry.reviewers, entry.teams, entry.author) == (
        "octo-org/hello-world#42", ("hubot",), (), "octocat",
    )  # fmt: skip
    assert entry.since_ms == 1714990495000  # 2024-05-06T10:14:55Z, the PR's updated_at
    again = after_pr_event(pr_event("pr-lifecycle", "05-review-requested"), entry, 10**13)
    assert again == entry  # still waiting since the first request


@pytest.mark.parametrize(
    ("stem", "changes"),
    [
        ("01-opened", {}),  # nobody asked
        ("05-review-requested", {"draft": True}),
        ("05-review-requested", {"state": "closed"}),
        ("03-converted-to-draft", {}),
        ("10-merged", {"requested_reviewers": [{"login": "hubot"}]}),
    ],
)
def test_what_ends_or_never_starts_a_wait(stem: str, changes: dict[str, Any]) -> None:
    before = after_pr_event(pr_event("pr-lifecycle", "05-review-requested"), None, 0)
    assert after_pr_event(pr_event("pr-lifecycle", stem, **changes), before, 0) is None


def test_teams_and_a_title_edit() -> None:
    teams = [{"name": "Docs", "slug": "docs"}]
    odd = [{"name": "Core", "slug": "core"}]  # a team where a user is expected: no crash
    event = pr_event(
        "changes-requested", "01-opened", requested_teams=teams, requested_reviewers=odd
    )
    entry = after_pr_event(event, None, 0)
    assert entry is not None and (entry.reviewers, entry.teams) == ((), ("Docs", "Core"))
    edited = after_pr_event(pr_event("pr-lifecycle", "09-edited-title"), entry, 0)
    assert edited is not None and edited.title.startswith("Add French, German and Brazilian")
    assert after_pr_event(pr_event("pr-lifecycle", "09-edited-title"), None, 0) is None


def test_a_review_by_anyone_but_the_author_ends_the_wait() -> None:
    entry = after_pr_event(pr_event("pr-lifecycle", "05-review-requested"), None, 0)
    assert after_review(review_event("07-review-commented"), entry) is None
    own_reply = review_event("07-review-commented", user={"login": "OctoCat"})
    assert after_review(own_reply, entry) == entry
    dismissed = ReviewEvent.model_validate(payload("changes-requested", "05-review-dismissed"))
    assert after_review(dismissed, entry) == entry


async def test_the_index_lists_the_waiting_prs_oldest_first(real_store: Store) -> None:
    index = AwaitingIndex(real_store)
    older = Awaiting(repo="o/r", number=2, title="B", url="u", author="a", since_ms=1)
    newer = older.model_copy(update={"number": 1, "since_ms": 5})
    await index.put(newer.key, newer)
    await index.put(older.key, older)
    assert await index.all() == [older, newer]
    await index.put(older.key, None)
    assert await index.all() == [newer]
    assert await index.get(older.key) is None and await index.get(newer.key) == newer
