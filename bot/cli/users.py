"""`prbot users`: the GitHub login <-> Discord user links in force, and where each came from."""

from __future__ import annotations

import sys

from bot.prs.users import UserMap, UserMapError, load_users
from bot.runtime import PrbotError, Store
from bot.runtime.inspect import table
from bot.settings import Settings

SOURCES = {"settings": "settings", "github": "proven on GitHub (/pr link)"}


def _source(source: str) -> str:
    if source.startswith("admin:"):
        return f"by admin {source.removeprefix('admin:')} (/prbot link)"
    return SOURCES.get(source, source)


async def users_command(settings: Settings) -> int:
    """Print the links in force; return the exit code."""
    try:
        seed = load_users(settings)
    except UserMapError as exc:
        print(f"prbot: GITHUB_DISCORD_USERS: {exc}", file=sys.stderr)
        return 2
    if settings.embedded:
        print("(no REDIS_URL: only the settings' links; links made in Discord live in Redis)")
    store = Store.connect(settings.redis_url, settings.redis_key_prefix)
    try:
        links = await UserMap(store, seed).links()
    except PrbotError as exc:
        print(f"prbot: the store does not answer: {exc}", file=sys.stderr)
        return 1
    finally:
        await store.close()
    if not links:
        print("no GitHub logins linked")
        return 0
    rows = [[link.login, str(link.discord_id), _source(link.source)] for link in links]
    print(table(["GITHUB", "DISCORD USER", "LINKED"], rows))
    return 0
