"""`prbot check`, the GitHub rows' probe: log in, read permissions, installations and the hook.

Only reads. App installation tokens land in a throwaway in-process store, not in Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import re

from bot.github.api import GitHubAdapter
from bot.github.connect import backfill_hook, open_github
from bot.github.shapes import HookRef, Installation, RepoRef
from bot.ops.check.github_verdicts import (
    access_row,
    hook_row,
    installation_row,
    login_row,
    permissions_row,
)
from bot.ops.check.verdicts import Report
from bot.runtime import PrbotError, Store
from bot.settings import Settings

TIMEOUT_S = 15.0
_EXACT_REPO = re.compile(r"[\w.-]+/[\w.-]+")


async def github_checks(settings: Settings, report: Report) -> None:
    """Add the GitHub rows: credentials, login, permissions, installations, the hook."""
    if not access_row(settings, report):
        return
    store = Store.connect(None, prefix="check")
    door = open_github(settings, store)
    assert door is not None
    try:
        await asyncio.wait_for(_probe(settings, door, report), TIMEOUT_S)
    except TimeoutError:
        report.add("GitHub", "fail", f"no answer from {settings.github_api_base}")
    finally:
        await door.close()
        await store.close()


async def _probe(settings: Settings, door: GitHubAdapter, report: Report) -> None:
    try:
        identity = await door.account.identity()
    except PrbotError as exc:
        report.add("GitHub login", "fail", str(exc))
        return
    login_row(identity, settings.github_api_base, report)
    permissions_row(identity, backfill_hook(settings), report)
    if door.is_app:
        for repo in sorted(r for r in settings.repo_channels if _EXACT_REPO.fullmatch(r)):
            installation_row(repo, await _installation(door, repo), report)
    hook = backfill_hook(settings)
    hook_row(settings, await _readable(door, hook) if hook else None, report)


async def _installation(door: GitHubAdapter, repo: str) -> Installation | str:
    try:
        return await door.account.installation(RepoRef.parse(repo))
    except PrbotError as exc:
        return f"not installed, or not readable: {exc}"


async def _readable(door: GitHubAdapter, hook: HookRef) -> str | None:
    try:
        async with contextlib.aclosing(door.hooks.newest_first(hook, per_page=1)) as attempts:
            async for _ in attempts:
                break
    except PrbotError as exc:
        return str(exc)
    return None
