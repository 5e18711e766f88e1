"""`prbot serve`: wire the product's functions (and Discord) into the service."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from bot.discord import DiscordAdapter, open_adapter
from bot.discord.dryrun import DryRunAdapter
from bot.github.api import GitHubAdapter
from bot.github.connect import open_github
from bot.ops.serve import EXIT_CONFIG, FunctionSource, Role, serve
from bot.prs.deps import Deps
from bot.runtime import Function, Store
from bot.settings import Settings
from bot.web.metrics import record_discord_call
from functions import build_functions, startup_checks

log = logging.getLogger(__name__)

DRY_RUN_WARNING = (
    "!!! DRY RUN (--dry-run): nothing is sent to Discord; what it would receive is printed. "
    "Deliveries, their dedup ids and stand-in thread ids stay in this process and are gone when "
    "it stops: REDIS_URL is not used. Not for production. !!!"
)


def dry_run_problem(settings: Settings, role: Role, dry_run: bool) -> str | None:
    """Return why `prbot serve` must refuse to start with or without `--dry-run`, or None."""
    if dry_run and role != "all":
        return "--dry-run runs in one process (--role all): its state never goes to Redis"
    # The web role only records and enqueues; whoever runs the functions needs the token.
    if not dry_run and role != "web" and settings.discord_token is None:
        return "DISCORD_TOKEN is not set (to try prbot without Discord: prbot serve --dry-run)"
    return None


async def _adapter(settings: Settings, role: Role, dry_run: bool, store: Store) -> DiscordAdapter:
    if role in ("web", "gateway"):  # they only match events to functions: no Discord calls
        return DryRunAdapter(echo=False)
    if dry_run:
        return DryRunAdapter()  # the transcript on stdout
    return await open_adapter(settings, store=store, recorder=record_discord_call)


def _github(settings: Settings, dry_run: bool, store: Store) -> GitHubAdapter | None:
    # Every role opens it (no request until one is made): which functions exist decides which
    # events are matched, where they are recorded. A dry run writes nowhere, GitHub included.
    return None if dry_run else open_github(settings, store)


def product_functions(settings: Settings, role: Role, dry_run: bool = False) -> FunctionSource:
    """Return a function source for `serve`: logs in to Discord only where runs execute."""
    if dry_run:  # stand-in threads: no backlink may point at them
        settings = settings.model_copy(update={"github_backlink": False})

    @contextlib.asynccontextmanager
    async def source(store: Store) -> AsyncIterator[list[Function]]:
        # The web and gateway roles only match events to functions; runs use no Discord there.
        runs = role in ("all", "worker")
        adapter = await _adapter(settings, role, dry_run, store)
        github = _github(settings, dry_run, store)
        try:
            deps = Deps.build(settings, store, adapter, github)
            functions = build_functions(deps)
            if runs:
                await startup_checks(deps)
            yield functions
        finally:
            await adapter.close()
            if github is not None:
                await github.close()

    return source


async def serve_command(
    settings: Settings, host: str, port: int, role: Role, *, dry_run: bool = False
) -> int:
    """Run the service until SIGTERM (logging is configured by `main`)."""
    problem = dry_run_problem(settings, role, dry_run)
    if problem is not None:
        log.error("cannot start: %s", problem)
        return EXIT_CONFIG
    if dry_run:
        log.warning(DRY_RUN_WARNING)
        # The embedded store: a dry run never uses up real delivery ids or writes stand-in
        # thread ids where a real worker would find them.
        settings = settings.model_copy(update={"redis_url": None})
    # What is loaded by now (every import) lives as long as the process: leave it out of the
    # collector's full passes, which otherwise walk it all while deliveries wait (p99 latency).
    gc.collect()
    gc.freeze()
    return await serve(settings, host, port, role, product_functions(settings, role, dry_run))
