"""Seeding and inspection helpers of the fake GitHub (mixed into ``FakeGitHub``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tests.fakes import github_talk as talk
from tests.fakes.github_hooks import Hooks
from tests.fakes.github_models import (
    App,
    CheckRun,
    CommitStatus,
    Delivery,
    Hook,
    Installation,
    IssueComment,
    PullRequest,
    Repo,
    Review,
    ReviewComment,
    Token,
    User,
)
from tests.fakes.github_state import GitHubState


class GitHubSeeding:
    """Seed accounts, repositories, pull requests, CI and webhooks; read back what happened."""

    state: GitHubState
    hooks: Hooks

    def add_user(self, login: str, *, type: str = "User") -> User:
        """Seed a user (``type="Organization"`` for an organization)."""
        return self.state.add_user(login, type=type)

    def add_token(
        self,
        login: str,
        *,
        scopes: Sequence[str] = ("repo",),
        permissions: Mapping[str, str] | None = None,
    ) -> Token:
        """Seed a personal token: classic with ``scopes``, fine-grained with ``permissions``."""
        return self.state.add_token(login, scopes=scopes, permissions=permissions)

    def add_app(self, slug: str, public_key_pem: bytes, **options: Any) -> App:
        """Register a GitHub App whose JWTs verify with ``public_key_pem``."""
        return self.state.add_app(slug, public_key_pem, **options)

    def install(
        self, app: App, account: str, *, repositories: Sequence[Repo] | None = None
    ) -> Installation:
        """Install ``app`` on ``account`` (all its repositories, or ``repositories``)."""
        return self.state.install(app, account, repositories=repositories)

    def add_repo(self, full_name: str, *, private: bool = False) -> Repo:
        """Seed a repository ``owner/name``."""
        return self.state.add_repo(full_name, private=private)

    def add_pull(self, repo: Repo, **fields: Any) -> PullRequest:
        """Seed a pull request (see ``GitHubState.add_pull`` for the fields)."""
        return self.state.add_pull(repo, **fields)

    def add_comment(
        self, repo: Repo, number: int, author: str, body: str, *, app: App | None = None
    ) -> IssueComment:
        """Seed a comment on issue or pull request ``number`` (by ``app``'s bot if given)."""
        user = app.bot if app else self.state.add_user(author)
        return talk.create_comment(self.state, repo, number, user, body, app.id if app else None)

    def add_review(
        self, pr: PullRequest, author: str, state: str = "APPROVED", body: str = ""
    ) -> Review:
        """Seed a submitted review (states in REST's upper case)."""
        return talk.add_review(self.state, pr, self.state.add_user(author), state, body)

    def add_review_comment(
        self, pr: PullRequest, author: str, body: str, *, path: str = "README.md", line: int = 1
    ) -> ReviewComment:
        """Seed an inline review comment that starts a thread."""
        user = self.state.add_user(author)
        return talk.add_review_comment(self.state, pr, user, body, path=path, line=line)

    def add_check_run(
        self,
        repo: Repo,
        sha: str,
        name: str,
        *,
        status: str = "completed",
        conclusion: str | None = "success",
        details_url: str | None = None,
    ) -> CheckRun:
        """Seed a check run (made by the GitHub Actions App) on ``sha``."""
        return talk.add_check_run(
            self.state, repo, sha, name, status=status, conclusion=conclusion,
            details_url=details_url,
        )  # fmt: skip

    def add_status(
        self, repo: Repo, sha: str, state: str, context: str = "ci/legacy", **extra: Any
    ) -> CommitStatus:
        """Seed a commit status (``error``, ``failure``, ``pending`` or ``success``)."""
        return talk.add_status(self.state, repo, sha, state, context, **extra)

    def add_repo_hook(self, repo: Repo, url: str, secret: str) -> Hook:
        """Register a repository webhook that POSTs to ``url``."""
        return self.hooks.add("repo", str(repo.id), url, secret)

    def add_org_hook(self, org: str, url: str, secret: str) -> Hook:
        """Register an organization webhook that POSTs to ``url``."""
        self.state.add_user(org, type="Organization")
        return self.hooks.add("org", org, url, secret)

    def set_app_hook(self, app: App, url: str, secret: str) -> Hook:
        """Set the App's webhook (one per App)."""
        return self.hooks.add("app", str(app.id), url, secret)

    async def deliver(self, hook: Hook, event: str, payload: Mapping[str, Any]) -> Delivery:
        """Send a delivery to the hook's target now, recording it even if the target is down."""
        return await self.hooks.deliver(hook, event, payload)

    async def settle(self) -> None:
        """Wait for redeliveries started by ``POST .../attempts``."""
        await self.hooks.settle()

    # -- inspection ----------------------------------------------------------------------------

    def comments_on(self, repo: Repo, number: int) -> list[IssueComment]:
        """Return the comments on issue or pull request ``number``, oldest first."""
        return talk.comments_on(self.state, repo, number)

    def deliveries_of(self, hook: Hook) -> list[Delivery]:
        """Return a hook's deliveries, oldest first."""
        return sorted(
            (d for d in self.state.deliveries.values() if d.hook_id == hook.id), key=lambda d: d.id
        )
