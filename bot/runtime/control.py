"""Store operations that act on runs from outside a worker: cancel, the outbox, cron, reruns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

import redis.asyncio as aioredis

from bot.runtime.keys import Keys
from bot.runtime.plans import Enqueue, events_args
from bot.runtime.scriptset import ScriptSet
from bot.runtime.translate import translate_errors


class Control:
    """Cancel runs, send the events of cancelled runs, claim cron ticks, count reruns."""

    def __init__(
        self, client: aioredis.Redis, keys: Keys, scripts: Callable[[], ScriptSet]
    ) -> None:
        self._redis = client
        self._keys = keys
        self._scripts = scripts

    async def cancel(self, run_id: str, now_ms: int, reason: str) -> str:
        """Cancel a run; return cancelled, cancelling (running), completed, failed or unknown."""
        with translate_errors():
            status = await self._scripts().cancel(args=[now_ms, run_id, reason])
        return str(status)

    async def outbox(self, limit: int) -> list[str]:
        """Return up to `limit` cancelled run ids whose cancelled event is not sent yet."""
        with translate_errors():
            ids = await self._redis.lrange(self._keys.outbox, 0, limit - 1)
        return cast(list[str], ids)

    async def flush(
        self, run_ids: Sequence[str], events: Sequence[Enqueue], now_ms: int
    ) -> list[str]:
        """Enqueue the cancelled events of `run_ids`, emptying the outbox of them, atomically."""
        args = [now_ms, len(run_ids), *run_ids, *events_args(events)]
        with translate_errors():
            taken = await self._scripts().flush(args=args)
        return [str(x) for x in taken]

    async def cron_tick(
        self, key: str, tick_ms: int, keep_ms: int, event: Enqueue, now_ms: int
    ) -> bool:
        """Claim the tick `tick_ms` of a schedule and enqueue its event; False if already taken.

        The schedule's key expires `keep_ms` after the tick: longer than to its next tick.
        """
        args = [now_ms, key, tick_ms, keep_ms, *events_args([event])]
        with translate_errors():
            return bool(await self._scripts().cron(args=args))

    async def next_rerun(self, run_id: str, keep_ms: int) -> int:
        """Return the next rerun number of `run_id` (1, 2, …); the count lives `keep_ms` more."""
        key = self._keys.reruns(run_id)
        with translate_errors():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.pexpire(key, keep_ms)
                number, _ = await pipe.execute()
        return int(number)
