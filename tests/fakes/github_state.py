"""Everything the fake GitHub knows, and how tests seed it: accounts, Apps, repos, PRs, CI."""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections.abc import Iterable, Mapping, Sequence

from tests.fakes.discord_clock import FakeClock
from tests.fakes.github_models import (
    App,
    CheckRun,
    CommitStatus,
    Delivery,
    Hook,
    Installation,
    IssueComment,
    Label,
    PullRequest,
    Repo,
    Review,
    ReviewComment,
    Token,
    User,
)
from tests.fakes.github_rules import GitHubError, not_found

INSTALLATION_TOKEN_TTL_S = 3600.0
DEFAULT_APP_PERMISSIONS = {
    "metadata": "read",
    "issues": "write",
    "pull_requests": "write",
    "checks": "read",
    "statuses": "read",
}
DEFAULT_APP_EVENTS = ["pull_request", "pull_request_review", "issue_comment", "check_run"]


def fake_sha(seed: str) -> str:
    """Return a stable 40-hex commit sha for ``seed``."""
    return hashlib.sha1(seed.encode()).hexdigest()


class GitHubState:
    """The fake's data, with ids that only grow and times from the fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self._ids = itertools.count(1001)
        self._delivery_ids = itertools.count(90_000_000_001)
        self.users: dict[str, User] = {}
        self.user_created: dict[int, float] = {}
        self.apps: dict[int, App] = {}
        self.installations: dict[int, Installation] = {}
        self.tokens: dict[str, Token] = {}
        self.repos: dict[int, Repo] = {}
        self.pulls: dict[tuple[int, int], PullRequest] = {}
        self.comments: dict[int, IssueComment] = {}
        self.reviews: dict[int, Review] = {}
        self.review_comments: dict[int, ReviewComment] = {}
        self.check_runs: dict[int, CheckRun] = {}
        self.statuses: dict[int, CommitStatus] = {}
        self.hooks: dict[int, Hook] = {}
        self.deliveries: dict[int, Delivery] = {}

    def next_id(self) -> int:
        """Return a fresh object id."""
        return next(self._ids)

    def next_delivery_id(self) -> int:
        """Return a fresh delivery id (GitHub's are large and increasing)."""
        return next(self._delivery_ids)

    # -- accounts and credentials --------------------------------------------------------------

    def add_user(self, login: str, *, type: str = "User") -> User:
        """Seed a user (or ``type="Organization"``/``"Bot"``); the same login returns it again."""
        if login not in self.users:
            self.users[login] = User(self.next_id(), login, type)
            self.user_created[self.users[login].id] = self.clock.now()
        return self.users[login]

    def add_token(
        self,
        login: str,
        *,
        scopes: Sequence[str] = ("repo",),
        permissions: Mapping[str, str] | None = None,
        value: str | None = None,
    ) -> Token:
        """Seed a personal token: classic with ``scopes``, or fine-grained with ``permissions``."""
        user = self.add_user(login)
        if permissions is not None:
            token = Token(
                value or "github_pat_" + secrets.token_hex(30),
                "fine_grained",
                user,
                permissions={"metadata": "read", **permissions},
            )
        else:
            token = Token(value or "ghp_" + secrets.token_hex(18), "classic", user, tuple(scopes))
        self.tokens[token.value] = token
        return token

    def add_app(
        self,
        slug: str,
        public_key_pem: bytes,
        *,
        owner: str = "prbot-dev",
        name: str | None = None,
        permissions: Mapping[str, str] | None = None,
        events: Sequence[str] = DEFAULT_APP_EVENTS,
    ) -> App:
        """Register a GitHub App whose JWTs verify with ``public_key_pem``; adds ``<slug>[bot]``."""
        app_id = self.next_id()
        app = App(
            id=app_id,
            slug=slug,
            name=name or slug,
            owner=self.add_user(owner),
            bot=self.add_user(f"{slug}[bot]", type="Bot"),
            public_key_pem=public_key_pem,
            client_id=f"Iv23li{app_id:014d}",
            permissions=dict(permissions or DEFAULT_APP_PERMISSIONS),
            events=list(events),
            created_at=self.clock.now(),
        )
        self.apps[app.id] = app
        return app

    def install(
        self, app: App, account: str, *, repositories: Iterable[Repo] | None = None
    ) -> Installation:
        """Install ``app`` on ``account``: on all its repositories, or on ``repositories``."""
        installation = Installation(
            id=self.next_id(),
            app_id=app.id,
            account=self.add_user(account, type=self._account_type(account)),
            permissions=dict(app.permissions),
            events=list(app.events),
            repository_ids=None if repositories is None else {r.id for r in repositories},
            created_at=self.clock.now(),
        )
        self.installations[installation.id] = installation
        return installation

    def _account_type(self, login: str) -> str:
        return self.users[login].type if login in self.users else "Organization"

    def issue_installation_token(
        self,
        installation: Installation,
        permissions: Mapping[str, str],
        repository_ids: set[int] | None,
    ) -> Token:
        """Mint an installation token that expires an hour from now on the fake clock."""
        app = self.apps[installation.app_id]
        token = Token(
            "ghs_" + secrets.token_hex(18),
            "installation",
            app.bot,
            permissions=dict(permissions),
            expires_at=self.clock.now() + INSTALLATION_TOKEN_TTL_S,
            installation_id=installation.id,
            repository_ids=repository_ids,
        )
        self.tokens[token.value] = token
        return token

    # -- repositories and pull requests ---------------------------------------------------------

    def add_repo(
        self, full_name: str, *, private: bool = False, default_branch: str = "main"
    ) -> Repo:
        """Seed a repository ``owner/name`` (its owner is created as an organization)."""
        owner_login, _, name = full_name.partition("/")
        owner = self.add_user(owner_login, type=self._account_type(owner_login))
        repo = Repo(self.next_id(), owner, name, private, default_branch, self.clock.now())
        repo.branches[default_branch] = fake_sha(f"{full_name}:{default_branch}")
        repo.commits.add(repo.branches[default_branch])
        self.repos[repo.id] = repo
        return repo

    def repo_by_name(self, owner: str, name: str) -> Repo:
        """Find a repository by owner and name (case-insensitive, as GitHub), or raise 404."""
        wanted = f"{owner}/{name}".lower()
        for repo in self.repos.values():
            if repo.full_name.lower() == wanted:
                return repo
        raise not_found()

    def repo_by_id(self, raw: str) -> Repo:
        """Find a repository by id (the ``/repositories/{id}`` form of its URLs), or raise 404."""
        repo = self.repos.get(int(raw)) if raw.isdigit() else None
        if repo is None:
            raise not_found()
        return repo

    def add_pull(
        self,
        repo: Repo,
        *,
        title: str = "Add a feature",
        author: str = "octocat",
        number: int | None = None,
        head_ref: str | None = None,
        head_sha: str | None = None,
        base_ref: str | None = None,
        body: str | None = None,
        state: str = "open",
        draft: bool = False,
        labels: Sequence[str] = (),
        requested_reviewers: Sequence[str] = (),
        merged: bool = False,
    ) -> PullRequest:
        """Seed a pull request; its number continues the repository's issue numbers."""
        number = number if number is not None else repo.next_number
        repo.next_number = max(repo.next_number, number + 1)
        head_ref = head_ref or f"feature-{number}"
        now = self.clock.now()
        pr = PullRequest(
            id=self.next_id(),
            repo_id=repo.id,
            number=number,
            title=title,
            body=body,
            user=self.add_user(author),
            head_ref=head_ref,
            head_sha=head_sha or fake_sha(f"{repo.full_name}:{head_ref}"),
            base_ref=base_ref or repo.default_branch,
            base_sha=repo.branches[repo.default_branch],
            created_at=now,
            updated_at=now,
            state="closed" if merged else state,
            draft=draft,
            merged=merged,
            merged_at=now if merged else None,
            closed_at=now if merged or state == "closed" else None,
            labels=[Label(self.next_id(), name) for name in labels],
            requested_reviewers=[self.add_user(login) for login in requested_reviewers],
        )
        repo.branches[pr.head_ref] = pr.head_sha
        repo.commits.add(pr.head_sha)
        self.pulls[(repo.id, number)] = pr
        return pr

    def pull(self, repo: Repo, number: int) -> PullRequest:
        """Return pull request ``number`` or raise 404."""
        pr = self.pulls.get((repo.id, number))
        if pr is None:
            raise not_found()
        return pr

    def issue_exists(self, repo: Repo, number: int) -> bool:
        """Whether ``number`` is an issue or pull request of ``repo``."""
        return 0 < number < repo.next_number

    def resolve_ref(self, repo: Repo, ref: str) -> str:
        """Return the commit sha a ref (sha, branch, ``heads/x``) names, or GitHub's 422."""
        ref = ref.removeprefix("refs/").removeprefix("heads/")
        if ref in repo.branches:
            return repo.branches[ref]
        matches = [sha for sha in repo.commits if sha.startswith(ref.lower())]
        if len(ref) >= 7 and len(matches) == 1:
            return matches[0]
        raise GitHubError(422, f"No commit found for SHA: {ref}")

    def pulls_for_sha(self, repo: Repo, sha: str) -> list[PullRequest]:
        """Return the open pull requests whose head is ``sha``."""
        return [
            pr
            for (repo_id, _), pr in self.pulls.items()
            if repo_id == repo.id and pr.head_sha == sha and pr.state == "open"
        ]
