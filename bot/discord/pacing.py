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

from bot.runtime import Store


class Pacer(Protocol):
    """Something every Discord request waits on before it goes out."""

    async def wait(self) -> None:
        """Return when this request may go."""


class RedisPacer:
    """Pace requests of all processes sharing `key` to `per_second`, allowing a small burst."""

    def __init__(
        self,
        store: Store,
        name: str,
        per_second: float,
        burst: int = 5,
        now_ms: Callable[[], float] = lambda: time.time() * 1000,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.data = store.data
        self.name = name
        self.interval_ms = 1000.0 / per_second
        self.burst_ms = self.interval_ms * max(0, burst - 1)
        self._now_ms = now_ms
        self._sleep = sleep

    async def reserve(self) -> float:
        """Reserve the next slot; return how many seconds to wait before using it."""
        wait_ms = await self.data.reserve(
            self.name, self._now_ms(), self.interval_ms, self.burst_ms
        )
        return wait_ms / 1000

    async def wait(self) -> None:
        """Reserve a slot and wait for it."""
        delay = await self.reserve()
        if delay > 0:
            await self._sleep(delay)
