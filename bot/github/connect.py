"""Open the GitHub door from the settings: a token, a GitHub App, or no API access at all."""

from __future__ import annotations

import asyncio

from bot.github.api import GitHubAdapter
from bot.github.auth import Credentials, Sleep
from bot.github.client import GitHubClient
from bot.github.shapes import HookRef
from bot.runtime import Clock, Store
from bot.settings import Settings

NO_ACCESS = (
    "no GITHUB_TOKEN or GitHub App (GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY): "
    "everything that calls GitHub's API is off"
)
NO_HOOK = "GITHUB_HOOK is not set: with a token, backfill needs the webhook to read"


def credentials(settings: Settings) -> Credentials | None:
    """Return the credentials the settings give (the App wins over a token), or None."""
    if settings.github_app_id is not None:
        return Credentials(app_id=settings.github_app_id, private_key=settings.app_private_key())
    if settings.github_token is not None:
        return Credentials(token=settings.github_token.get_secret_value())
    return None


def access_problem(settings: Settings) -> str | None:
    """Return why there is no API access, or None when there is."""
    return NO_ACCESS if credentials(settings) is None else None


def backfill_hook(settings: Settings) -> HookRef | None:
    """Return the webhook backfill reads: the App's, or `GITHUB_HOOK` with a token."""
    if settings.github_app:
        return HookRef.app()
    if settings.github_token is not None and settings.github_hook:
        return HookRef.parse(settings.github_hook)
    return None


def backfill_problem(settings: Settings) -> str | None:
    """Return why backfill cannot run with these settings, or None when it can."""
    if credentials(settings) is None:
        return NO_ACCESS
    return NO_HOOK if backfill_hook(settings) is None else None


def open_github(
    settings: Settings,
    store: Store,
    *,
    clock: Clock | None = None,
    sleep: Sleep = asyncio.sleep,
) -> GitHubAdapter | None:
    """Return the GitHub door for these settings (close it when done), or None without access.

    `store` keeps the App's installation tokens for every process; `clock` and `sleep` are how
    time passes (tests point both at a fake, and `GITHUB_API_BASE` at a fake GitHub).
    """
    found = credentials(settings)
    if found is None:
        return None
    client = GitHubClient(found, store, base_url=settings.github_api_base, clock=clock, sleep=sleep)
    return GitHubAdapter(client)
