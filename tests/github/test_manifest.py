"""The shipped GitHub App manifest asks for what prbot's functions and `prbot check` need."""

from __future__ import annotations

import json
from typing import Any

from bot.discord.dryrun import DryRunAdapter
from bot.github import permissions
from bot.prs.deps import Deps
from bot.runtime import Store
from bot.settings import load_settings
from functions import build_functions

# The permission each webhook event needs an App to hold (GitHub's "Permissions & events").
EVENT_PERMISSION = {
    "pull_request": "pull_requests",
    "pull_request_review": "pull_requests",
    "pull_request_review_comment": "pull_requests",
    "pull_request_review_thread": "pull_requests",
    "issue_comment": "issues",
    "check_run": "checks",
    "check_suite": "checks",
    "status": "statuses",
    "workflow_run": "actions",
}


def manifest() -> dict[str, Any]:
    """Return the parsed manifest."""
    data = json.loads(permissions.MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def subscribed_events(store: Store) -> set[str]:
    """Return the GitHub events prbot's functions trigger on (`github/<event>.<action>`)."""
    deps = Deps.build(load_settings({}), store, DryRunAdapter(echo=False))
    names = {t.event for f in build_functions(deps) for t in f.triggers}
    return {n.removeprefix("github/").split(".")[0] for n in names if n.startswith("github/")}


def test_manifest_has_what_github_requires() -> None:
    data = manifest()
    assert data["name"] and data["url"].startswith("https://")
    assert data["hook_attributes"]["url"].endswith("/webhooks/github")
    assert data["hook_attributes"]["active"] is True
    assert data["public"] is False


def test_manifest_events_cover_every_function_trigger(embedded_store: Store) -> None:
    events = set(manifest()["default_events"])
    wanted = subscribed_events(embedded_store)
    assert {"pull_request", "issue_comment"} <= wanted
    assert wanted <= events


def test_manifest_permissions_cover_check_and_every_event() -> None:
    granted = manifest()["default_permissions"]
    assert permissions.lacking(granted) == []
    for event in manifest()["default_events"]:
        assert granted.get(EVENT_PERMISSION[event]) in ("read", "write"), event


def test_lacking_names_levels() -> None:
    granted = {"pull_requests": "write", "issues": "read", "checks": "write"}
    assert permissions.lacking(granted) == [
        "issues: write (has read)",
        "statuses: read (none)",
        "metadata: read (none)",
    ]
