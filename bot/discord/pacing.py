"""Keep every process of one bot under Discord's global rate limit, together.

Discord allows a bot 50 requests per second in all (https://discord.com/developers/docs/topics/
rate-limits#global-rate-limit), and 10,000 invalid responses (429s among them) in 10 minutes get
the IP banned. discord.py only learns of the global limit from 429s, one process at a time, so
several workers bursting together would collect 429s. Every REST call first reserves a slot here:
a generic cell rate algorithm (GCRA) on one Redis key, so all processes share one pace.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import redis.asyncio as aioredis

# KEYS: the pace key. ARGV: now_ms, interval_ms, burst_ms. Returns how long to wait (ms).
# The key holds the theoretical arrival time (TAT) of the next request; a request may go when
# TAT is at most `burst_ms` ahead of now, and moves TAT one interval further.
_RESERVE = """
local now, interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - burst - now
if wait < 0 then wait = 0 end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.ceil(tat + interval - now) + 1000)
return wait
"""


class Pacer(Protocol):
    """Something every Discord request waits on before it goes out."""

    async def wait(self) -> None:
        """Return when this request may go."""


class RedisPacer:
    """Pace requests of all processes sharing `key` to `per_second`, allowing a small burst."""

    def __init__(
        self,
        redis: aioredis.Redis,
        key: str,
        per_second: float,
        burst: int = 5,
        now_ms: Callable[[], float] = lambda: time.time() * 1000,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.key = key
        self.interval_ms = 1000.0 / per_second
        self.burst_ms = self.interval_ms * max(0, burst - 1)
        self._now_ms = now_ms
        self._sleep = sleep
        self._reserve = redis.register_script(_RESERVE)

    async def reserve(self) -> float:
        """Reserve the next slot; return how many seconds to wait before using it."""
        wait_ms = await self._reserve(
            keys=[self.key], args=[self._now_ms(), self.interval_ms, self.burst_ms]
        )
        return float(wait_ms) / 1000

    async def wait(self) -> None:
        """Reserve a slot and wait for it."""
        delay = await self.reserve()
        if delay > 0:
            await self._sleep(delay)
