"""The fake GitHub's endpoints for Apps and users: the App, installations, tokens, ``/user``.

https://docs.github.com/rest/apps/apps and https://docs.github.com/rest/users/users.
"""

from __future__ import annotations

from tests.fakes.github_auth import check_requested_permissions
from tests.fakes.github_calls import Call, Endpoint, Reply, World
from tests.fakes.github_rules import (
    GitHubError,
    iso,
    not_accessible,
    not_found,
    requires_authentication,
)


def get_app(world: World, call: Call) -> Reply:
    """GET /app: the App whose JWT signed the request."""
    return Reply(200, world.render.app(call.app()))


def get_installation(world: World, call: Call) -> Reply:
    """GET /app/installations/{installation_id}."""
    app = call.app()
    inst = world.state.installations.get(call.number("installation_id"))
    if inst is None or inst.app_id != app.id:
        raise not_found()
    return Reply(200, world.render.installation(inst, app))


def post_access_token(world: World, call: Call) -> Reply:
    """POST /app/installations/{installation_id}/access_tokens: a one-hour installation token."""
    app = call.app()
    inst = world.state.installations.get(call.number("installation_id"))
    if inst is None or inst.app_id != app.id:
        raise not_found()
    if inst.suspended:
        raise GitHubError(403, "This installation has been suspended")
    permissions = check_requested_permissions(call.body.get("permissions") or {}, inst.permissions)
    repo_ids = _requested_repos(world, call, inst.account.login)
    token = world.state.issue_installation_token(inst, permissions, repo_ids)
    assert token.expires_at is not None
    payload = {
        "token": token.value,
        "expires_at": iso(token.expires_at),
        "permissions": token.permissions,
        "repository_selection": "selected" if repo_ids is not None else "all",
    }
    return Reply(201, payload)


def _requested_repos(world: World, call: Call, owner: str) -> set[int] | None:
    names = call.body.get("repositories")
    ids = call.body.get("repository_ids")
    if not names and not ids:
        return None
    wanted = {r.id for r in world.state.repos.values() if r.owner.login == owner}
    asked = {r.id for r in world.state.repos.values() if r.name in (names or [])}
    asked |= {int(i) for i in ids or []}
    if len(asked) < len(names or []) + len(ids or []) or not asked <= wanted:
        raise GitHubError(
            422,
            "There is at least one repository that does not exist or is not accessible "
            "to the parent installation.",
        )
    return asked


def get_repo_installation(world: World, call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/installation: the App's installation that covers the repo."""
    app = call.app()
    repo = call.repo(world)
    for inst in world.state.installations.values():
        covers = inst.repository_ids is None or repo.id in inst.repository_ids
        if inst.app_id == app.id and inst.account.id == repo.owner.id and covers:
            return Reply(200, world.render.installation(inst, app))
    raise not_found()


def get_user(world: World, call: Call) -> Reply:
    """GET /user: the token's user; installation tokens and JWTs are refused (403)."""
    caller = call.caller
    if caller.kind == "anonymous":
        raise requires_authentication()
    if caller.kind in ("installation", "jwt") or caller.user is None:
        raise not_accessible("integration")
    created = world.state.user_created[caller.user.id]
    return Reply(200, world.render.private_user(caller.user, created))


APP_ROUTES: tuple[tuple[str, str, Endpoint], ...] = (
    ("GET", "/app", get_app),
    ("GET", "/app/installations/{installation_id}", get_installation),
    ("POST", "/app/installations/{installation_id}/access_tokens", post_access_token),
    ("GET", "/user", get_user),
    ("GET", "/repos/{owner}/{repo}/installation", get_repo_installation),
)
