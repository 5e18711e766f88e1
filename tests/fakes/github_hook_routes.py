"""Webhook delivery endpoints of the fake GitHub: for repository, organization and App hooks.

https://docs.github.com/rest/repos/webhooks, /rest/orgs/webhooks, /rest/apps/webhooks: list
(newest first, ``cursor`` and ``per_page``, ``Link: <...>; rel="next"``), get one, redeliver.
"""

from __future__ import annotations

from tests.fakes.github_calls import Call, Endpoint, Reply, World, authorize_org
from tests.fakes.github_hooks import delivery_json, item_json
from tests.fakes.github_models import Hook
from tests.fakes.github_rules import per_page_arg, with_query

HOOKS = ("repository_hooks",)


def _repo_hook(world: World, call: Call, level: str) -> tuple[Hook, str]:
    repo = call.repo_for(world, HOOKS, "write" if level == "write" else "read")
    hook = world.hooks.find("repo", str(repo.id), call.number("hook_id"))
    return hook, f"{call.api}/repos/{repo.full_name}/hooks/{hook.id}/deliveries"


def _org_hook(world: World, call: Call, level: str) -> tuple[Hook, str]:
    org = authorize_org(
        call.caller, world, call.params["org"], "write" if level == "write" else "read"
    )
    hook = world.hooks.find("org", org.login, call.number("hook_id"))
    return hook, f"{call.api}/orgs/{org.login}/hooks/{hook.id}/deliveries"


def _app_hook(world: World, call: Call, level: str) -> tuple[Hook, str]:
    app = call.app()
    return world.hooks.find("app", str(app.id)), f"{call.api}/app/hook/deliveries"


def _list(world: World, call: Call, hook: Hook, url: str) -> Reply:
    per_page = per_page_arg(call.query)
    rows, cursor = world.hooks.page(
        hook, cursor=call.query.get("cursor"), per_page=per_page, status=call.query.get("status")
    )
    headers = {}
    if cursor is not None:
        query = {k: v for k, v in call.query.items() if k != "cursor"}
        next_url = with_query(url, query, per_page=str(per_page), cursor=cursor)
        headers["Link"] = f'<{next_url}>; rel="next"'
    return Reply(200, [item_json(d) for d in rows], headers)


def _get(world: World, call: Call, hook: Hook, url: str) -> Reply:
    delivery_id = call.number("delivery_id")
    delivery = world.hooks.delivery(hook, delivery_id)
    return Reply(200, delivery_json(delivery, f"{url}/{delivery_id}"))


def _redeliver(world: World, call: Call, hook: Hook, url: str) -> Reply:
    world.hooks.redeliver(hook, world.hooks.delivery(hook, call.number("delivery_id")))
    return Reply(202, {})


def list_repo_deliveries(world: World, call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries."""
    return _list(world, call, *_repo_hook(world, call, "read"))


def get_repo_delivery(world: World, call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}."""
    return _get(world, call, *_repo_hook(world, call, "read"))


def redeliver_repo(world: World, call: Call) -> Reply:
    """POST /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts (202)."""
    return _redeliver(world, call, *_repo_hook(world, call, "write"))


def list_org_deliveries(world: World, call: Call) -> Reply:
    """GET /orgs/{org}/hooks/{hook_id}/deliveries."""
    return _list(world, call, *_org_hook(world, call, "read"))


def get_org_delivery(world: World, call: Call) -> Reply:
    """GET /orgs/{org}/hooks/{hook_id}/deliveries/{delivery_id}."""
    return _get(world, call, *_org_hook(world, call, "read"))


def redeliver_org(world: World, call: Call) -> Reply:
    """POST /orgs/{org}/hooks/{hook_id}/deliveries/{delivery_id}/attempts (202)."""
    return _redeliver(world, call, *_org_hook(world, call, "write"))


def list_app_deliveries(world: World, call: Call) -> Reply:
    """GET /app/hook/deliveries (App JWT)."""
    return _list(world, call, *_app_hook(world, call, "read"))


def get_app_delivery(world: World, call: Call) -> Reply:
    """GET /app/hook/deliveries/{delivery_id} (App JWT)."""
    return _get(world, call, *_app_hook(world, call, "read"))


def redeliver_app(world: World, call: Call) -> Reply:
    """POST /app/hook/deliveries/{delivery_id}/attempts (App JWT, 202)."""
    return _redeliver(world, call, *_app_hook(world, call, "write"))


_REPO = "/repos/{owner}/{repo}/hooks/{hook_id}/deliveries"
_ORG = "/orgs/{org}/hooks/{hook_id}/deliveries"
_APP = "/app/hook/deliveries"

HOOK_ROUTES: tuple[tuple[str, str, Endpoint], ...] = (
    ("GET", _REPO, list_repo_deliveries),
    ("GET", _REPO + "/{delivery_id}", get_repo_delivery),
    ("POST", _REPO + "/{delivery_id}/attempts", redeliver_repo),
    ("GET", _ORG, list_org_deliveries),
    ("GET", _ORG + "/{delivery_id}", get_org_delivery),
    ("POST", _ORG + "/{delivery_id}/attempts", redeliver_org),
    ("GET", _APP, list_app_deliveries),
    ("GET", _APP + "/{delivery_id}", get_app_delivery),
    ("POST", _APP + "/{delivery_id}/attempts", redeliver_app),
)
