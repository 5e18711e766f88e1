"""What prbot reads from GitHub's REST API: small models of only the fields it uses.

Schemas: https://docs.github.com/rest (pulls, issues/comments, pulls/comments, checks/runs,
commits/statuses, repos/webhooks). Every model ignores the fields it does not name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from bot.runtime import NonRetriableError

_HOOK = re.compile(r"(repos/[\w.-]+/[\w.-]+|orgs/[\w.-]+)/hooks/(\d+)")


class GitHubApiError(NonRetriableError):
    """GitHub refused a request for good (4xx other than rate limits): `status` says why."""

    def __init__(self, route: str, status: int, message: str) -> None:
        super().__init__(f"GitHub {status} on {route}: {message}")
        self.route = route
        self.status = status


@dataclass(frozen=True)
class RepoRef:
    """A repository to call, and the App installation that reaches it (None: token, or look up)."""

    owner: str
    name: str
    installation_id: int | None = None

    @property
    def full_name(self) -> str:
        """Return `owner/name`."""
        return f"{self.owner}/{self.name}"

    @classmethod
    def parse(cls, full_name: str, installation_id: int | None = None) -> RepoRef:
        """Build from `owner/name`."""
        owner, _, name = full_name.partition("/")
        if not owner or not name or "/" in name:
            raise NonRetriableError(f"not a repository name: {full_name!r}")
        return cls(owner, name, installation_id)

    @classmethod
    def of_payload(cls, data: Mapping[str, Any]) -> RepoRef | None:
        """Read `repository.full_name` and `installation.id` from a webhook payload."""
        repo, installation = data.get("repository"), data.get("installation")
        if not isinstance(repo, Mapping) or not isinstance(repo.get("full_name"), str):
            return None
        iid = installation.get("id") if isinstance(installation, Mapping) else None
        return cls.parse(repo["full_name"], iid if isinstance(iid, int) else None)


@dataclass(frozen=True)
class HookRef:
    """A webhook whose deliveries prbot reads: `repos/O/R/hooks/ID`, `orgs/O/hooks/ID`, the App."""

    path: str  # "app/hook" for the App's webhook

    @classmethod
    def parse(cls, text: str) -> HookRef:
        """Parse a `GITHUB_HOOK` value."""
        if not _HOOK.fullmatch(text.strip().strip("/")):
            raise ValueError("expected repos/OWNER/REPO/hooks/ID or orgs/ORG/hooks/ID")
        return cls(text.strip().strip("/"))

    @classmethod
    def app(cls) -> HookRef:
        """Return the App's own webhook (listed with the App's JWT)."""
        return cls("app/hook")

    @property
    def is_app(self) -> bool:
        """Tell whether this is the App's webhook."""
        return self.path == "app/hook"

    @property
    def parts(self) -> tuple[str, ...]:
        """Return (owner, repo, id), (org, id) or () for the App's hook."""
        if self.is_app:
            return ()
        scope, *rest = self.path.split("/")
        return (rest[0], rest[1], rest[3]) if scope == "repos" else (rest[0], rest[2])


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class User(_Model):
    """A user, bot or organisation."""

    login: str
    type: str = "User"


class AppRef(_Model):
    """The App that made something (`performed_via_github_app`, a check run's `app`)."""

    slug: str | None = None


class Branch(_Model):
    """One side of a pull request."""

    ref: str
    sha: str
    label: str | None = None


class Label(_Model):
    """A label."""

    name: str


class Team(_Model):
    """A team asked for a review."""

    slug: str


class Pull(_Model):
    """A pull request."""

    number: int
    title: str
    state: str
    html_url: str
    user: User
    draft: bool = False
    merged: bool = False
    head: Branch
    base: Branch
    body: str | None = None
    labels: list[Label] = []
    requested_reviewers: list[User] = []
    requested_teams: list[Team] = []
    additions: int | None = None
    deletions: int | None = None
    changed_files: int | None = None


class IssueComment(_Model):
    """A comment on a pull request's conversation."""

    id: int
    body: str = ""
    html_url: str
    user: User | None = None
    performed_via_github_app: AppRef | None = None


class ReviewComment(_Model):
    """An inline review comment (a reply has `in_reply_to_id`)."""

    id: int
    body: str = ""
    html_url: str
    user: User | None = None
    path: str | None = None
    in_reply_to_id: int | None = None
    performed_via_github_app: AppRef | None = None


class Review(_Model):
    """A submitted review; `state` is REST's upper case (APPROVED, CHANGES_REQUESTED...)."""

    id: int
    state: str
    body: str | None = None
    html_url: str
    user: User | None = None
    submitted_at: datetime | None = None


class CheckRun(_Model):
    """One check run on a commit."""

    id: int
    name: str
    status: str
    conclusion: str | None = None
    html_url: str | None = None
    details_url: str | None = None
    app: AppRef | None = None


class CommitStatus(_Model):
    """One commit status context."""

    context: str
    state: str
    description: str | None = None
    target_url: str | None = None


class CombinedStatus(_Model):
    """The combined status of a ref: `pending` with `total_count` 0 means no statuses at all."""

    state: str
    sha: str
    total_count: int
    statuses: list[CommitStatus] = []


class HookDelivery(_Model):
    """One attempt to deliver a webhook; redeliveries keep the `guid` (`X-GitHub-Delivery`)."""

    id: int
    guid: str
    delivered_at: datetime
    redelivery: bool = False
    status_code: int
    event: str
    action: str | None = None

    @property
    def ok(self) -> bool:
        """Tell whether the target accepted this attempt (2xx)."""
        return 200 <= self.status_code < 300

    @property
    def delivered_ms(self) -> int:
        """Return when it was attempted, in ms since the epoch."""
        return int(self.delivered_at.timestamp() * 1000)


class Identity(_Model):
    """Who the credentials are: a token's user (and classic scopes) or the App itself."""

    kind: Literal["classic", "fine-grained", "app"]
    name: str
    scopes: tuple[str, ...] = ()
    permissions: dict[str, str] = {}
    events: tuple[str, ...] = ()


class Installation(_Model):
    """An App installation and the permissions it was granted."""

    id: int
    permissions: dict[str, str] = {}
