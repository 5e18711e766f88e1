"""One parsed request to the fake GitHub, and what its endpoints share (state, hooks, JSON)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.github_auth import Caller, authorize, require_jwt
from tests.fakes.github_hooks import Hooks
from tests.fakes.github_json import Render
from tests.fakes.github_models import LEVELS, App, Level, Repo, User
from tests.fakes.github_rules import (
    JSONObject,
    not_accessible,
    not_found,
    page_args,
    page_links,
    paginate,
    requires_authentication,
    validation_failed,
)
from tests.fakes.github_state import GitHubState


@dataclass
class World:
    """What endpoints work on: the state, the webhooks and the JSON renderer."""

    state: GitHubState
    hooks: Hooks
    render: Render


@dataclass
class Reply:
    """An endpoint's answer: status, JSON (``None`` = empty body) and extra headers."""

    status: int
    payload: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Call:
    """One request: path parameters, query, JSON body, the caller and the request's API URL."""

    params: Mapping[str, str]
    query: Mapping[str, str]
    body: JSONObject
    caller: Caller
    api: str

    def number(self, name: str) -> int:
        """Return path parameter ``name`` as an integer; GitHub answers 404 for anything else."""
        raw = self.params[name]
        if not raw.isdigit():
            raise not_found()
        return int(raw)

    def repo(self, world: World) -> Repo:
        """Return the repository of ``/repos/{owner}/{repo}`` or ``/repositories/{id}``."""
        if "repository_id" in self.params:
            return world.state.repo_by_id(self.params["repository_id"])
        return world.state.repo_by_name(self.params["owner"], self.params["repo"])

    def repo_for(self, world: World, permissions: tuple[str, ...], level: Level) -> Repo:
        """Return the repository after checking the caller may use ``permissions`` on it."""
        repo = self.repo(world)
        authorize(self.caller, repo, permissions, level, world.state.installations)
        return repo

    def app(self) -> App:
        """Return the App of a JWT caller (App-only routes)."""
        return require_jwt(self.caller)

    def repo_path(self, repo: Repo, rest: str) -> str:
        """Return an API URL in the ``/repositories/{id}`` form GitHub puts in Link headers."""
        return f"{self.api}/repositories/{repo.id}{rest}"

    def paged(self, items: list[Any], url: str) -> tuple[list[Any], dict[str, str]]:
        """Return one page of ``items`` (``page``/``per_page``) and its ``Link`` header."""
        page, per_page = page_args(self.query)
        link = page_links(url, self.query, page, per_page, len(items))
        return paginate(items, page, per_page), {"Link": link} if link else {}


def authorize_org(caller: Caller, world: World, org: str, level: Level) -> User:
    """Check the caller may manage organization ``org``'s webhooks; return the organization."""
    account = world.state.users.get(org)
    if account is None:
        raise not_found()
    token = caller.token
    if caller.kind == "anonymous":
        raise requires_authentication()
    if caller.kind == "jwt" or token is None:
        raise not_accessible("integration")
    if token.kind == "classic":
        if "admin:org_hook" not in token.scopes:
            raise not_found()
        return account
    if caller.installation is not None and caller.installation.account.id != account.id:
        raise not_found()
    granted = LEVELS.get(token.permissions.get("organization_hooks", ""), 0)
    if granted < LEVELS[level]:
        kind = "integration" if caller.kind == "installation" else "token"
        raise not_accessible(kind, {"X-Accepted-GitHub-Permissions": f"organization_hooks={level}"})
    return account


def choice(query: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    """Return query parameter ``name`` if it is one of ``choices``, else GitHub's 422."""
    value = query.get(name, default)
    if value not in choices:
        raise validation_failed("Search", name, "invalid")
    return value


Endpoint = Callable[[World, Call], Reply]
