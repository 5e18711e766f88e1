"""What prbot needs from GitHub: App permissions, fine-grained permissions, classic scopes.

Names are GitHub's: https://docs.github.com/rest/authentication/permissions-required-for-github-apps
and https://docs.github.com/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps.
`app-manifest.json` beside this module asks for at least these (a test holds it to that).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from bot.github.shapes import HookRef

LEVELS = {"read": 1, "write": 2, "admin": 3}
# Comments and review replies (write), pull requests and reviews, CI on the head commit.
REQUIRED: dict[str, str] = {
    "pull_requests": "write",
    "issues": "write",
    "checks": "read",
    "statuses": "read",
    "metadata": "read",
}
# Listing a token's webhook deliveries needs read; asking for a redelivery needs write.
HOOK_PERMISSION = {"repos": "repository_hooks", "orgs": "organization_hooks"}
MANIFEST = Path(__file__).with_name("app-manifest.json")


def lacking(granted: Mapping[str, str], required: Mapping[str, str] = REQUIRED) -> list[str]:
    """Return each required permission `granted` falls short of, as `name: level (has x)`."""
    missing = []
    for name, level in required.items():
        has = granted.get(name)
        if LEVELS.get(has or "", 0) < LEVELS[level]:
            missing.append(f"{name}: {level} ({'has ' + has if has else 'none'})")
    return missing


def hook_permissions(hook: HookRef | None) -> dict[str, str]:
    """Return the fine-grained permission a token needs to backfill from `hook`."""
    if hook is None or hook.is_app:
        return {}
    return {HOOK_PERMISSION[hook.path.split("/")[0]]: "write"}


def classic_lacking(scopes: Iterable[str], hook: HookRef | None) -> list[str]:
    """Return the classic scopes missing for prbot's calls (and backfill from `hook`)."""
    have = set(scopes)
    missing = [] if "repo" in have else ["repo"]
    if hook is not None and hook.path.startswith("orgs/") and "admin:org_hook" not in have:
        missing.append("admin:org_hook")
    return missing
