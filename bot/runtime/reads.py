"""Read-only views of the store for people and dashboards: indexes, queue depth, persistence."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from bot.runtime.keys import Keys
from bot.runtime.translate import translate_errors

# What a crash or restart of the server can lose, and what it drops when full.
PERSISTENCE_KEYS = ("appendonly", "appendfsync", "save", "maxmemory", "maxmemory-policy")


@dataclass(frozen=True)
class Persistence:
    """The server's persistence and eviction settings, or why there are none to read.

    `config` holds the `CONFIG GET` answer for PERSISTENCE_KEYS. It is empty when `embedded`
    (an in-process store: nothing survives a restart) or when `unreadable` says why the
    server refused (CONFIG renamed away or not granted, as on some managed Redis).
    """

    config: dict[str, str] = field(default_factory=dict)
    embedded: bool = False
    unreadable: str = ""


class Reads:
    """Pages of the run and event indexes and the records behind them, newest first."""

    def __init__(self, client: aioredis.Redis, keys: Keys, embedded: bool = False) -> None:
        self._redis = client
        self._keys = keys
        self._embedded = embedded

    async def run_page(self, start: int, count: int, failed: bool = False) -> list[str]:
        """Return run ids, newest first, from position `start`."""
        index = self._keys.runs_failed if failed else self._keys.runs
        with translate_errors():
            ids = await self._redis.zrevrange(index, start, start + count - 1)
        return cast(list[str], ids)

    async def run_states(self, run_ids: list[str]) -> list[dict[str, str]]:
        """Return each run's state hash (empty for an expired run)."""
        with translate_errors():
            async with self._redis.pipeline(transaction=False) as pipe:
                for run_id in run_ids:
                    pipe.hgetall(self._keys.run(run_id))
                return cast(list[dict[str, str]], await pipe.execute())

    async def run(self, run_id: str) -> tuple[dict[str, str], dict[str, str], list[str]]:
        """Return a run's state, saved steps and timeline entries (JSON texts)."""
        with translate_errors():
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hgetall(self._keys.run(run_id))
                pipe.hgetall(self._keys.steps(run_id))
                pipe.lrange(self._keys.log(run_id), 0, -1)
                state, steps, log = await pipe.execute()
        return state, steps, log

    async def event_page(self, start: int, count: int) -> list[tuple[str, float]]:
        """Return (event id, received ms) pairs, newest first, from position `start`."""
        with translate_errors():
            rows = await self._redis.zrevrange(
                self._keys.events, start, start + count - 1, withscores=True
            )
        return cast(list[tuple[str, float]], rows)

    async def event_records(self, event_ids: list[str]) -> list[str | None]:
        """Return the stored records of these events (None where expired)."""
        with translate_errors():
            async with self._redis.pipeline(transaction=False) as pipe:
                for event_id in event_ids:
                    pipe.get(self._keys.event(event_id))
                return cast(list[str | None], await pipe.execute())

    async def duplicates(self, event_ids: list[str]) -> list[int]:
        """Return how many repeats of each event were answered `duplicate` (within 24 h)."""
        if not event_ids:
            return []
        with translate_errors():
            counts = await self._redis.mget([self._keys.duplicates(e) for e in event_ids])
        return [int(n or 0) for n in counts]

    async def event(self, event_id: str) -> tuple[str | None, float | None]:
        """Return one event's record and received ms."""
        with translate_errors():
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.get(self._keys.event(event_id))
                pipe.zscore(self._keys.events, event_id)
                raw, score = await pipe.execute()
        return raw, score

    async def queue_depth(self) -> int:
        """Return how many concurrency keys have work waiting or running."""
        with translate_errors():
            return int(await self._redis.zcard(self._keys.sched))

    async def inbox(self, limit: int) -> list[tuple[str, str | None]]:
        """Return the oldest `limit` accepted deliveries still to be planned, with their records."""
        with translate_errors():
            ids = cast(list[str], await self._redis.lrange(self._keys.inbox, 0, limit - 1))
            records = await self.event_records(ids) if ids else []
        return list(zip(ids, records, strict=True))

    async def inbox_depth(self) -> int:
        """Return how many accepted deliveries wait for their runs to be planned."""
        with translate_errors():
            return int(await self._redis.llen(self._keys.inbox))

    async def parked(self) -> int:
        """Return how many timers are pending: sleeping and waiting runs, debounces, throttles."""
        with translate_errors():
            return int(await self._redis.zcard(self._keys.timers))

    async def next_due_ms(self) -> int | None:
        """Return when the earliest scheduled key is due (or its lease ends), None when idle."""
        with translate_errors():
            head = await self._redis.zrange(self._keys.sched, 0, 0, withscores=True)
        return int(head[0][1]) if head else None

    async def persistence(self) -> Persistence:
        """Return the server's persistence and eviction settings (`CONFIG GET`); only reads."""
        if self._embedded:
            return Persistence(embedded=True)
        with translate_errors():
            try:
                found = await self._redis.config_get(*PERSISTENCE_KEYS)
            except ResponseError as exc:  # refused, not unreachable: the server answered
                return Persistence(unreadable=str(exc) or type(exc).__name__)
        return Persistence({str(k): str(v) for k, v in found.items()})
