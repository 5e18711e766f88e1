"""Open the Discord door: the REST adapter logged in with `DISCORD_TOKEN`, or the dry run."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TextIO

from bot.discord.pacing import RedisPacer
from bot.discord.shapes import DiscordAdapter, Recorder
from bot.runtime import RetriableError, RetryAfterError, Store
from bot.settings import Settings

# Logging in at start: a passing Discord outage should not crash-loop the process.
LOGIN_ATTEMPTS = 5
LOGIN_MAX_WAIT_S = 30.0

log = logging.getLogger(__name__)


async def open_adapter(
    settings: Settings,
    *,
    out: TextIO | None = None,
    forums: Mapping[int, Sequence[str]] | None = None,
    store: Store | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    recorder: Recorder | None = None,
) -> DiscordAdapter:
    """Return the REST adapter logged in with `DISCORD_TOKEN`, or the dry-run one without it.

    `out` and `forums` (forum channel id -> tag names) only shape the dry run's transcript.
    With `store`, every process using it paces its calls together under DISCORD_GLOBAL_RATE.
    `sleep` is how every wait passes (login retries and discord.py's own); `recorder` is told
    each call's route and status (metrics).
    A login that fails for a passing reason (5xx, network, 429) is tried again with backoff;
    an invalid token fails at once.
    """
    if settings.discord_token is None:
        from bot.discord.dryrun import DryRunAdapter

        return DryRunAdapter(out=out, forums=forums)
    # Imported here: a dry run (replay, tests) never pays for loading discord.py.
    from bot.discord.rest import DiscordRestAdapter

    token = settings.discord_token.get_secret_value()
    for attempt in range(1, LOGIN_ATTEMPTS + 1):
        try:
            adapter = await DiscordRestAdapter.login(
                token, settings.discord_api_base, sleep=sleep, recorder=recorder
            )
            break
        except (RetriableError, RetryAfterError) as exc:
            if attempt == LOGIN_ATTEMPTS:
                raise
            delay = exc.seconds if isinstance(exc, RetryAfterError) else 2.0**attempt
            log.warning("Discord login failed (%s); attempt %d again in %.0f s", exc, attempt + 1,
                        delay)  # fmt: skip
            await sleep(min(delay, LOGIN_MAX_WAIT_S))
    if store is not None:
        adapter.pacer = RedisPacer(store, "discord", settings.discord_global_rate)
    return adapter
