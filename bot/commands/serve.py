"""`prbot serve`: wire the product's functions (and Discord) into the service."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator

from bot.deps import Deps
from bot.discord import DiscordAdapter, open_adapter
from bot.discord.dryrun import DryRunAdapter
from bot.logs import configure
from bot.runtime import Function, Store
from bot.serve import FunctionSource, Role, serve
from bot.settings import Settings
from functions import build_functions, startup_checks


def _secrets(settings: Settings) -> list[str]:
    return [
        s.get_secret_value()
        for s in (settings.discord_token, settings.github_webhook_secret)
        if s is not None
    ]


def product_functions(settings: Settings, role: Role) -> FunctionSource:
    """Return a function source for `serve`: logs in to Discord only where runs execute."""

    @contextlib.asynccontextmanager
    async def source(store: Store) -> AsyncIterator[list[Function]]:
        # The web role only matches events to functions; it never talks to Discord.
        adapter: DiscordAdapter = (
            DryRunAdapter(echo=False)
            if role == "web"
            else await open_adapter(settings, store=store)
        )
        try:
            deps = Deps.build(settings, store, adapter)
            functions = build_functions(deps)
            if role != "web":
                await startup_checks(deps)
            yield functions
        finally:
            await adapter.close()

    return source


async def serve_command(settings: Settings, host: str, port: int, role: Role) -> int:
    """Configure logging and run the service until SIGTERM."""
    configure(settings.log_level, settings.log_format, _secrets(settings))
    # What is loaded by now (every import) lives as long as the process: leave it out of the
    # collector's full passes, which otherwise walk it all while deliveries wait (p99 latency).
    gc.collect()
    gc.freeze()
    return await serve(settings, host, port, role, product_functions(settings, role))
