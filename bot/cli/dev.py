"""`prbot dev`: the whole service in one local process, to push fixtures in and watch them.

The embedded store, a dry run toward Discord unless DISCORD_TOKEN is set, deliveries accepted
unsigned (the bind is loopback only, so nothing else can reach it) and the dashboard open.
"""

from __future__ import annotations

import sys

from bot.cli.serve import product_functions
from bot.ops.replay import replay_settings
from bot.ops.serve import serve
from bot.settings import Settings
from bot.web.access import is_loopback

DEFAULT_PORT = 8288


def dev_settings(settings: Settings) -> Settings:
    """Return the settings `prbot dev` runs with: embedded store, unsigned deliveries."""
    local = settings.model_copy(
        update={"redis_url": None, "github_webhook_secret": None, "allow_unsigned_webhooks": True}
    )
    return replay_settings(local)  # a dry run gets a stand-in channel when none is set


def banner(settings: Settings, host: str, port: int) -> str:
    """Return what `prbot dev` prints first: where to look and how to send deliveries."""
    base = f"http://{host}:{port}" if ":" not in host else f"http://[{host}]:{port}"
    mode = (
        f"live: posting to Discord at {settings.discord_api_base}"
        if settings.discord_token is not None
        else "dry run: Discord calls are printed, not made (set DISCORD_TOKEN to post)"
    )
    return "\n".join(
        [
            "prbot dev · embedded store (nothing kept after exit) · unsigned deliveries accepted",
            f"  dashboard   {base}/ui",
            f"  webhook     {base}/webhooks/github",
            f"  discord     {mode}",
            f"  try         prbot replay fixtures/scenarios/pr-lifecycle --target "
            f"{base}/webhooks/github",
        ]
    )


async def dev_command(settings: Settings, host: str, port: int) -> int:
    """Run the dev service until Ctrl-C; 2 when asked to bind beyond loopback."""
    if not is_loopback(host):
        print(
            f"prbot: dev accepts unsigned deliveries, so it binds loopback only (not {host}); "
            "use prbot serve to listen on other addresses",
            file=sys.stderr,
        )
        return 2
    settings = dev_settings(settings)
    print(banner(settings, host, port), flush=True)
    dry_run = settings.discord_token is None  # in-process store either way (dev_settings)
    functions = product_functions(settings, "all", dry_run=dry_run)
    return await serve(settings, host, port, "all", functions)
