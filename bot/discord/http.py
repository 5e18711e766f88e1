"""discord.py, imported once for the whole door, and pointed at an API base, a gateway, a sleep.

discord.py has no per-client setting for these: it reads the API base from the class attribute
`discord.http.Route.BASE`, a plain Client connects to `DiscordWebSocket.DEFAULT_GATEWAY` (it never
asks `GET /gateway/bot`), and it waits with `asyncio.sleep` inside `discord.http`. One process
talks to one Discord, so the door sets them here, from its constructor arguments, and nowhere else.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

with warnings.catch_warnings():
    # discord.py imports the stdlib `audioop` (deprecated in 3.11) for voice; prbot has none.
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord
    import discord.gateway
    import discord.http
    import yarl

DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"

Sleep = Callable[[float], Awaitable[None]]


class _AsyncioWithSleep:
    """`asyncio` as discord.http sees it, except that its waits go through `sleep`."""

    def __init__(self, sleep: Sleep) -> None:
        self._sleep = sleep

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def sleep(self, delay: float, result: Any = None) -> Any:
        """Wait `delay` seconds the injected way."""
        await self._sleep(delay)
        return result


def use_discord_http(api_base: str, sleep: Sleep = asyncio.sleep) -> None:
    """Point discord.py's REST client at `api_base` and make its waits use `sleep`."""
    discord.http.Route.BASE = api_base.rstrip("/")
    module: Any = asyncio if sleep is asyncio.sleep else _AsyncioWithSleep(sleep)
    discord.http.asyncio = module  # type: ignore[attr-defined]


def use_discord_gateway(url: str) -> None:
    """Make discord.py's Client connect to the gateway at `url`."""
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)


__all__ = [
    "DEFAULT_API_BASE",
    "DEFAULT_GATEWAY_URL",
    "Sleep",
    "discord",
    "use_discord_gateway",
    "use_discord_http",
]
