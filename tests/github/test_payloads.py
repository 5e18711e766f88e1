"""Payload models and the PR key, on the recorded fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from bot.github.payloads import (
    IssueCommentEvent,
    PullRequestEvent,
    ReviewCommentEvent,
    ReviewEvent,
    User,
    is_pr_comment,
    parse,
    pr_key_of,
    subject_of_issue,
    subject_of_pr,
)
from bot.ops.fixtures import load_delivery, scenarios_dir
from bot.runtime import Event, NonRetriableError

MODELS: dict[str, type[BaseModel]] = {
    "pull_request": PullRequestEvent,
    "issue_comment": IssueCommentEvent,
    "pull_request_review": ReviewEvent,
    "pull_request_review_comment": ReviewCommentEvent,
}
FIXTURES = sorted(p for p in scenarios_dir().glob("*/*.json"))


def payload(scenario: str, stem: str) -> dict[str, Any]:
    """Return the payload of a fixture."""
    return load_delivery(scenarios_dir() / scenario / f"{stem}.json").payload()


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_fixture_parses_and_has_the_right_key(path: Path) -> None:
    delivery = load_delivery(path)
    data = delivery.payload()
    model = MODELS.get(delivery.event)
    key = pr_key_of(data)
    plain_issue = not is_pr_comment(Event(name="github/issue_comment.created", data=data))
    if model is None or (delivery.event == "issue_comment" and plain_issue):
        assert key is None
        return
    parse(model, data)
    assert key is not None and key.startswith("octo-org/")


def test_subject_of_pr() -> None:
    event = parse(PullRequestEvent, payload("pr-lifecycle", "01-opened"))
    s = subject_of_pr(event.repository, event.pull_request)
    assert s.key == "octo-org/hello-world#42"
    assert s.repo_name == "hello-world"
    assert s.base == "main" and s.head is not None and s.draft is False
    assert s.labels


def test_merged_close() -> None:
    event = parse(PullRequestEvent, payload("pr-lifecycle", "10-merged"))
    assert event.pull_request.merged
    assert event.pull_request.merged_by == User(login="monalisa", type="User")


def test_edited_title_change() -> None:
    event = parse(PullRequestEvent, payload("pr-lifecycle", "09-edited-title"))
    assert event.changes is not None and event.changes.title is not None
    assert event.changes.title.from_ == "Add French and German greetings"


def test_plain_issue_comment_is_not_a_pr_comment() -> None:
    plain = payload("noise", "06-issue-comment-plain-issue")
    assert not is_pr_comment(Event(name="github/issue_comment.created", data=plain))
    on_pr = payload("pr-lifecycle", "02-comment")
    assert is_pr_comment(Event(name="github/issue_comment.created", data=on_pr))
    event = parse(IssueCommentEvent, on_pr)
    s = subject_of_issue(event.repository, event.issue)
    assert s.url == "https://github.com/octo-org/hello-world/pull/42"
    assert pr_key_of(on_pr) == "octo-org/hello-world#42"


def test_reviews_and_review_comments_parse() -> None:
    review = parse(ReviewEvent, payload("changes-requested", "02-review-changes-requested"))
    assert review.review.state == "changes_requested"
    comment = parse(ReviewCommentEvent, payload("pr-lifecycle", "06-review-comment"))
    assert comment.comment.path == "hello/greetings.py"
    assert (comment.comment.line or comment.comment.original_line) == 9


def test_bots_are_recognised() -> None:
    assert User(login="dependabot[bot]").is_bot
    assert User(login="x", type="Bot").is_bot
    assert not User(login="octocat").is_bot


def test_not_about_a_pr() -> None:
    assert pr_key_of(payload("noise", "02-push")) is None
    assert pr_key_of({"zen": "hi"}) is None


def test_bad_payload_fails_for_good() -> None:
    with pytest.raises(NonRetriableError):
        parse(PullRequestEvent, {"action": "opened"})
