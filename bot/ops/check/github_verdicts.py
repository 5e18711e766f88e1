"""`prbot check`, the GitHub rows' verdicts (pure): access, login, permissions, hook.

`github_probe` logs in and reads; these functions judge what it found.
"""

from __future__ import annotations

import json

from bot.github import permissions
from bot.github.connect import NO_ACCESS, NO_HOOK, backfill_hook
from bot.github.shapes import HookRef, Identity, Installation
from bot.ops.check.verdicts import Report
from bot.settings import Settings

FINE_GRAINED = (
    "fine-grained token: GitHub does not show what it may do; give it Pull requests and "
    "Issues read & write, Checks and Commit statuses read"
)


def manifest_events() -> list[str]:
    """Return the webhook events the shipped App manifest subscribes to."""
    data = json.loads(permissions.MANIFEST.read_text(encoding="utf-8"))
    return [str(event) for event in data["default_events"]]


def access_row(settings: Settings, report: Report) -> bool:
    """Say which credentials are used (or that API features are off); True to probe them."""
    if settings.github_app:
        report.add("GitHub credentials", "ok", f"GitHub App {settings.github_app_id}")
        if settings.github_token is not None:
            report.add("GITHUB_TOKEN", "warn", "set but unused: the GitHub App is used instead")
        return True
    if settings.github_token is not None:
        report.add("GitHub credentials", "ok", "GITHUB_TOKEN set")
        return True
    report.add("GitHub API", "skip", NO_ACCESS)
    return False


def login_row(identity: Identity, base: str, report: Report) -> None:
    """Say who the credentials logged in as."""
    who = f"App {identity.name}" if identity.kind == "app" else f"{identity.name} ({identity.kind})"
    report.add("GitHub login", "ok", f"logged in as {who} at {base}")


def permissions_row(identity: Identity, hook: HookRef | None, report: Report) -> None:
    """Name the permissions or scopes the credentials lack."""
    name = "GitHub permissions"
    if identity.kind == "classic":
        missing = permissions.classic_lacking(identity.scopes, hook)
        if missing:
            report.add(name, "fail", f"missing scope {', '.join(missing)}")
        else:
            report.add(name, "ok", f"scopes {', '.join(identity.scopes) or 'none'}")
        return
    if identity.kind == "fine-grained":
        needs = permissions.hook_permissions(hook)
        extra = "; and " + ", ".join(f"{k} {v}" for k, v in needs.items()) if needs else ""
        report.add(name, "warn", FINE_GRAINED + extra)
        return
    missing = permissions.lacking(identity.permissions)
    if missing:
        report.add(name, "fail", f"the App lacks {'; '.join(missing)}")
    else:
        report.add(name, "ok", ", ".join(f"{k}: {v}" for k, v in permissions.REQUIRED.items()))
    unheard = [e for e in manifest_events() if e not in identity.events]
    if unheard:
        report.add("GitHub App events", "warn", f"not subscribed to {', '.join(unheard)}")


def installation_row(repo: str, found: Installation | str, report: Report) -> None:
    """Judge the App's installation on a routed repository (or why it could not be read)."""
    name = f"App installed on {repo}"
    if isinstance(found, str):
        report.add(name, "fail", found)
        return
    missing = permissions.lacking(found.permissions)
    if missing:
        report.add(name, "fail", f"installation {found.id} lacks {'; '.join(missing)}")
    else:
        report.add(name, "ok", f"installation {found.id}")


def hook_row(settings: Settings, readable: str | None, report: Report) -> None:
    """Judge the webhook backfill reads: `readable` is None when it could be read, else why."""
    hook = backfill_hook(settings)
    if hook is None:
        report.add("GitHub hook", "warn", NO_HOOK)
        return
    name = f"GitHub hook {hook.path}"
    if readable is None:
        report.add(name, "ok", "deliveries readable: backfill can run")
    else:
        report.add(name, "fail", readable)
