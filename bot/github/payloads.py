"""GitHub webhook payloads: small models of only the fields prbot reads, and the PR key.

Payload reference: https://docs.github.com/en/webhooks/webhook-events-and-payloads
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.runtime import Event, NonRetriableError


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


M = TypeVar("M", bound=BaseModel)


class User(_Model):
    """A GitHub account (user, bot or organisation)."""

    login: str
    type: str = "User"

    @property
    def is_bot(self) -> bool:
        """Tell whether this is an app or bot account (`dependabot[bot]`)."""
        return self.login.endswith("[bot]") or self.type == "Bot"


class Label(_Model):
    """A label on an issue or pull request."""

    name: str


class Team(_Model):
    """A team (for example one asked for a review)."""

    name: str
    slug: str = ""


class Reviewer(_Model):
    """A requested reviewer: a user (`login`), or in some payloads a team (`name`)."""

    login: str | None = None
    name: str | None = None


class Ref(_Model):
    """One side of a pull request: a branch (and its commit)."""

    ref: str
    label: str | None = None
    sha: str | None = None


class Repository(_Model):
    """The repository an event is about."""

    full_name: str
    name: str


class PullRequest(_Model):
    """A pull request; review payloads omit `draft`, `merged` and `commits`."""

    number: int
    title: str
    html_url: str
    user: User
    body: str | None = None
    labels: list[Label] = []
    draft: bool | None = None
    base: Ref
    head: Ref
    merged: bool | None = None
    merged_by: User | None = None
    commits: int | None = None
    created_at: datetime | None = None
    state: str = "open"
    updated_at: datetime | None = None
    additions: int | None = None
    deletions: int | None = None
    changed_files: int | None = None
    # Whose review is still asked for: GitHub drops a reviewer from it once they review.
    requested_reviewers: list[Reviewer] = []
    requested_teams: list[Team] = []


class TitleChange(_Model):
    """The previous value of a changed field."""

    from_: str | None = Field(None, alias="from")


class Changes(_Model):
    """What an `edited` event changed."""

    title: TitleChange | None = None


class PullRequestEvent(_Model):
    """A `pull_request` delivery."""

    action: str
    pull_request: PullRequest
    repository: Repository
    sender: User
    changes: Changes | None = None
    requested_reviewer: User | None = None
    requested_team: Team | None = None


class IssuePullRequest(_Model):
    """The marker (`issue.pull_request`) that makes an issue a pull request."""

    html_url: str | None = None


class Issue(_Model):
    """An issue, which is a pull request when `pull_request` is present."""

    number: int
    title: str
    html_url: str
    user: User
    body: str | None = None
    labels: list[Label] = []
    draft: bool | None = None
    pull_request: IssuePullRequest | None = None
    created_at: datetime | None = None


class AppId(_Model):
    """The GitHub App that made something (`performed_via_github_app`)."""

    id: int


class Comment(_Model):
    """A comment on the conversation or on a line of the diff."""

    id: int = 0
    performed_via_github_app: AppId | None = None
    html_url: str
    user: User
    body: str | None = None
    path: str | None = None
    line: int | None = None
    original_line: int | None = None
    start_line: int | None = None


class IssueCommentEvent(_Model):
    """An `issue_comment` delivery."""

    action: str
    issue: Issue
    comment: Comment
    repository: Repository
    sender: User


class Review(_Model):
    """A submitted or dismissed review; `state` is lowercase in webhooks."""

    id: int = 0
    html_url: str
    user: User
    body: str | None = None
    state: str


class ReviewEvent(_Model):
    """A `pull_request_review` delivery."""

    action: str
    review: Review
    pull_request: PullRequest
    repository: Repository
    sender: User


class ReviewCommentEvent(_Model):
    """A `pull_request_review_comment` delivery."""

    action: str
    comment: Comment
    pull_request: PullRequest
    repository: Repository
    sender: User


class Subject(_Model):
    """What a PR thread is about, whichever payload told us: enough to name and introduce it."""

    repo: str
    number: int
    title: str
    url: str
    author: User
    body: str | None = None
    labels: tuple[str, ...] = ()
    draft: bool | None = None
    base: str | None = None
    head: str | None = None
    created_at: datetime | None = None  # when the PR was opened (GitHub's clock)
    size: tuple[int, int, int] | None = None  # additions, deletions, changed files
    requested: tuple[str, ...] = ()  # reviewers asked and not yet reviewed (teams as `@team`)

    @property
    def key(self) -> str:
        """Return the PR key `<owner>/<repo>#<number>`."""
        return pr_key(self.repo, self.number)

    @property
    def repo_name(self) -> str:
        """Return the repository name without its owner."""
        return self.repo.rsplit("/", 1)[-1]


def pr_key(repo: str, number: int) -> str:
    """Return the PR key `<owner>/<repo>#<number>` (case kept as GitHub sends it)."""
    return f"{repo}#{number}"


def subject_of_pr(repo: Repository, pr: PullRequest) -> Subject:
    """Return the thread subject of a pull request payload."""
    return Subject(
        repo=repo.full_name,
        number=pr.number,
        title=pr.title,
        url=pr.html_url,
        author=pr.user,
        body=pr.body,
        labels=tuple(label.name for label in pr.labels),
        draft=pr.draft,
        base=pr.base.ref,
        head=pr.head.label or pr.head.ref,
        created_at=pr.created_at,
        size=size_of(pr),
        requested=requested_of(pr),
    )


def size_of(pr: PullRequest) -> tuple[int, int, int] | None:
    """Return (additions, deletions, changed files) when the payload says (review ones omit it)."""
    if pr.additions is None or pr.deletions is None or pr.changed_files is None:
        return None
    return (pr.additions, pr.deletions, pr.changed_files)


def requested_of(pr: PullRequest) -> tuple[str, ...]:
    """Return the reviewers a PR waits for: logins, then teams as `@slug`."""
    teams = tuple(f"@{t.slug or t.name}" for t in pr.requested_teams)
    return tuple(u.login for u in pr.requested_reviewers if u.login) + teams


def subject_of_issue(repo: Repository, issue: Issue) -> Subject:
    """Return the thread subject of a PR seen through an issue payload (a PR comment)."""
    url = issue.pull_request.html_url if issue.pull_request else None
    return Subject(
        repo=repo.full_name,
        number=issue.number,
        title=issue.title,
        url=url or issue.html_url,
        author=issue.user,
        body=issue.body,
        labels=tuple(label.name for label in issue.labels),
        draft=issue.draft,
        created_at=issue.created_at,
    )


class _IssueNumber(_Model):
    number: int
    pull_request: IssuePullRequest | None = None


class _KeyProbe(_Model):
    repository: Repository
    issue: _IssueNumber | None = None


class _PrNumber(_Model):
    number: int


class _PrProbe(_Model):
    pull_request: _PrNumber


def pr_key_of(data: Mapping[str, Any]) -> str | None:
    """Return the PR key of a GitHub payload, or None when it is not about a pull request."""
    try:
        probe = _KeyProbe.model_validate(data)
    except ValidationError:
        return None
    if probe.issue is not None:  # an issue is a PR only with `issue.pull_request`
        if probe.issue.pull_request is None:
            return None
        return pr_key(probe.repository.full_name, probe.issue.number)
    try:
        number = _PrProbe.model_validate(data).pull_request.number
    except ValidationError:
        return None
    return pr_key(probe.repository.full_name, number)


def pr_key_of_event(event: Event) -> str | None:
    """Return the concurrency key of a PR function for `event`."""
    return pr_key_of(event.data)


def is_pr_comment(event: Event) -> bool:
    """Tell whether an `issue_comment` event is on a pull request (plain issues are ignored)."""
    issue = event.data.get("issue")
    return isinstance(issue, Mapping) and isinstance(issue.get("pull_request"), Mapping)


def parse(model: type[M], data: Mapping[str, Any]) -> M:
    """Parse a payload into `model`; a payload that does not fit fails the run for good."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise NonRetriableError(f"unexpected {model.__name__} payload: {exc}") from exc
