"""What the fake GitHub stores: users, apps, tokens, repositories, pull requests and their talk."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

TokenKind = Literal["classic", "fine_grained", "installation"]
Level = Literal["read", "write", "admin"]
LEVELS: dict[str, int] = {"read": 1, "write": 2, "admin": 3}


@dataclass
class User:
    """A user, organization or bot account."""

    id: int
    login: str
    type: str = "User"
    site_admin: bool = False


@dataclass
class App:
    """A registered GitHub App: its key verifies the JWTs it signs."""

    id: int
    slug: str
    name: str
    owner: User
    bot: User
    public_key_pem: bytes
    client_id: str
    permissions: dict[str, str]
    events: list[str]
    created_at: float


@dataclass
class Installation:
    """An App installed on an account, for all its repositories or selected ones."""

    id: int
    app_id: int
    account: User
    permissions: dict[str, str]
    events: list[str]
    repository_ids: set[int] | None  # None = all repositories of the account
    created_at: float
    suspended: bool = False


@dataclass
class Token:
    """A credential the fake accepts: a personal token or an installation token."""

    value: str
    kind: TokenKind
    user: User
    scopes: tuple[str, ...] = ()
    permissions: dict[str, str] = field(default_factory=dict)
    expires_at: float | None = None
    installation_id: int | None = None
    repository_ids: set[int] | None = None
    revoked: bool = False


@dataclass
class Repo:
    """A repository with its known commits and branches."""

    id: int
    owner: User
    name: str
    private: bool
    default_branch: str
    created_at: float
    branches: dict[str, str] = field(default_factory=dict)
    commits: set[str] = field(default_factory=set)
    next_number: int = 1

    @property
    def full_name(self) -> str:
        """``owner/name``."""
        return f"{self.owner.login}/{self.name}"


@dataclass
class Label:
    """A label on a pull request."""

    id: int
    name: str
    color: str = "ededed"
    description: str | None = None


@dataclass
class PullRequest:
    """A pull request (also an issue: they share numbers and comments)."""

    id: int
    repo_id: int
    number: int
    title: str
    body: str | None
    user: User
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    created_at: float
    updated_at: float
    state: str = "open"
    draft: bool = False
    locked: bool = False
    merged: bool = False
    merged_at: float | None = None
    closed_at: float | None = None
    labels: list[Label] = field(default_factory=list)
    requested_reviewers: list[User] = field(default_factory=list)


@dataclass
class IssueComment:
    """A comment on an issue or a pull request's conversation."""

    id: int
    repo_id: int
    issue_number: int
    user: User
    body: str
    created_at: float
    updated_at: float
    app_id: int | None = None


@dataclass
class Review:
    """A pull request review; REST states are upper case (webhooks say lower case)."""

    id: int
    repo_id: int
    pull_number: int
    user: User
    body: str
    state: str
    commit_id: str
    submitted_at: float


@dataclass
class ReviewComment:
    """An inline comment on a pull request's diff; a reply points at its thread's first one."""

    id: int
    repo_id: int
    pull_number: int
    review_id: int
    user: User
    body: str
    path: str
    line: int
    commit_id: str
    created_at: float
    updated_at: float
    in_reply_to_id: int | None = None
    app_id: int | None = None


@dataclass
class CheckRun:
    """A check run on a commit."""

    id: int
    repo_id: int
    head_sha: str
    name: str
    status: str
    conclusion: str | None
    started_at: float
    completed_at: float | None
    app_id: int
    check_suite_id: int
    details_url: str | None = None


@dataclass
class CommitStatus:
    """A commit status (the older CI API)."""

    id: int
    repo_id: int
    sha: str
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: User
    created_at: float


@dataclass
class Hook:
    """A webhook: on a repository, an organization, or an App (``owner`` names which)."""

    id: int
    scope: Literal["repo", "org", "app"]
    owner: str  # repository id, organization login or app id, as text
    url: str
    secret: str
    events: list[str] = field(default_factory=lambda: ["*"])


@dataclass
class Delivery:
    """One delivery attempt of a webhook, as GitHub records it."""

    id: int
    guid: str
    hook_id: int
    delivered_at: float
    redelivery: bool
    duration: float
    status: str
    status_code: int
    event: str
    action: str | None
    installation_id: int | None
    repository_id: int | None
    request_headers: dict[str, str]
    payload: Any
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the target answered 2xx."""
        return 200 <= self.status_code < 300
