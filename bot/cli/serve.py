"""`prbot serve`: wire the product's functions (and Discord) into the service."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from bot.discord import DiscordAdapter, open_adapter
from bot.discord.dryrun import DryRunAdapter
from bot.ops.logs import configure
from bot.ops.serve import FunctionSource, Role, serve
from bot.prs.deps import Deps
from bot.runtime import Function, Store
from bot.settings import Settings
from bot.web.metrics import record_discord_call
from functions import build_functions, startup_checks


def _secrets(settings: Settings) -> list[str]:
    return [
        s.get_secret_value()
        for s in (settings.discord_token, settings.github_webhook_secret, settings.dashboard_token)
        if s is not None
    ]


def product_functions(settings: Settings, role: Role) -> FunctionSource:
    """Return a function source for `serve`: logs in to Discord only where runs execute."""

    @contextlib.asynccontextmanager
    async def source(store: Store) -> AsyncIterator[list[Function]]:
        # The web and gateway roles only match events to functions; runs use no Discord there.
        runs = role in ("all", "worker")
        adapter: DiscordAdapter = (
            await open_adapter(settings, store=store, recorder=record_discord_call)
            if runs
            else DryRunAdapter(echo=False)
        )
        try:
            deps = Deps.build(settings, store, adapter)
            functions = build_functions(deps)
            if runs:
                await startup_checks(deps)
            yield functions
        finally:
            await adapter.close()

    return source


async def serve_command(settings: Settings, host: str, port: int, role: Role) -> int:
    """Configure logging and run the service until SIGTERM."""
    configure(settings.log_level, settings.log_format, _secrets(settings))
    return await serve(settings, host, port, role, product_functions(settings, role))
