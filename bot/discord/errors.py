"""Discord's failures as prbot's errors, and writes that discord.py must never repeat by itself.

discord.py retries a 500, 502, 504 or 524 itself, whatever the method. A write answered so may
have been carried out (a proxy failed after Discord did the work), and repeating it blindly
posts a message twice once Discord's nonce window has passed, or makes a second thread (thread
creation has no nonce at all). So a write's 5xx stops discord.py at the first answer (an aiohttp
trace raises `AnswerLost`), and becomes a `RetriableError`: the runtime retries the step later,
and the step looks for its own effect before it writes again. Reads keep discord.py's retries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import aiohttp

from bot.discord.http import discord
from bot.discord.shapes import DiscordApiError, Recorder
from bot.runtime import RetriableError, RetryAfterError

READS = frozenset({"GET", "HEAD", "OPTIONS"})


class AnswerLost(aiohttp.ClientError):
    """A write was answered with a 5xx: Discord may or may not have carried it out."""

    def __init__(self, method: str, status: int) -> None:
        super().__init__(f"{method} answered {status}")
        self.status = status


async def _stop_at_a_lost_write(
    session: aiohttp.ClientSession,
    context: SimpleNamespace,
    params: aiohttp.TraceRequestEndParams,
) -> None:
    if params.method.upper() not in READS and params.response.status >= 500:
        params.response.close()  # no body wanted; free the connection
        raise AnswerLost(params.method.upper(), params.response.status)


def lost_write_trace() -> aiohttp.TraceConfig:
    """Return the trace that turns a write's 5xx into `AnswerLost` before discord.py retries."""
    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(_stop_at_a_lost_write)
    return trace


def _seconds(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return 60.0


def http_error(route: str, exc: discord.HTTPException) -> Exception:
    """Return prbot's error for an HTTP failure discord.py raised."""
    status = exc.status
    if status == 429:  # without `Via` or with a text body: Cloudflare, not Discord's JSON limit
        retry = exc.response.headers.get("Retry-After", "60")
        return RetryAfterError(f"Discord 429 (edge) on {route}", _seconds(retry))
    if status >= 500 or status == 408:
        return RetriableError(f"Discord {status} on {route}")
    return DiscordApiError(route, status, exc.code, exc.text or exc.response.reason or "")


@contextmanager
def translated(route: str, record: Recorder | None) -> Iterator[None]:
    """Map discord.py and aiohttp failures of one call to prbot's errors; tell `record`."""
    status = 200
    try:
        yield
    except discord.RateLimited as exc:
        status = 429
        raise RetryAfterError(f"Discord rate limit on {route}", exc.retry_after) from exc
    except discord.HTTPException as exc:
        status = exc.status
        raise http_error(route, exc) from exc
    except discord.LoginFailure as exc:
        status = 401
        raise DiscordApiError(route, 401, 0, "invalid DISCORD_TOKEN") from exc
    except AnswerLost as exc:
        status = exc.status
        why = "the write may have been carried out"
        raise RetriableError(f"Discord {status} on {route}: {why}") from exc
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        status = 0  # no HTTP answer
        raise RetriableError(f"network error on {route}: {type(exc).__name__}") from exc
    finally:
        if record is not None:
            record(route, status)
