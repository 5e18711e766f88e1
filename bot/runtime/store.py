"""The store: redis-py asyncio on a real Redis, or the same code on an embedded in-process Redis."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis

from bot.runtime import scripts
from bot.runtime.data import AppData
from bot.runtime.keys import Keys
from bot.runtime.reads import Reads
from bot.runtime.translate import translate_errors

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Limits:
    """How long things are kept, in milliseconds or counts."""

    dedup_ttl_ms: int = DAY_MS
    event_ttl_ms: int = 7 * DAY_MS
    events_max: int = 10_000
    runs_max: int = 100_000
    completed_ttl_ms: int = 7 * DAY_MS
    failed_ttl_ms: int = 30 * DAY_MS


@dataclass(frozen=True)
class PlannedRun:
    """A run to create for an event."""

    run_id: str
    function_id: str
    concurrency_key: str


@dataclass(frozen=True)
class Enqueue:
    """An event record to store, with the runs it makes; `dedup=False` bypasses the 24 h check."""

    event_id: str
    record: str
    runs: Sequence[PlannedRun]
    dedup: bool = True
    replay: bool = False


@dataclass(frozen=True)
class Claim:
    """A run handed to one worker under a lease on its concurrency key."""

    key: str
    token: str
    run_id: str
    run: dict[str, str]
    record: str
    steps: dict[str, str]


@dataclass(frozen=True)
class ClaimBatch:
    """What one claim call got, and when the next work is due if it got nothing."""

    claims: list[Claim] = field(default_factory=list)
    next_due_ms: int | None = None


def _pairs(flat: Sequence[str]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


class Store:
    """Queue, run state, dedup and app data in Redis, every change atomic (see scripts.py)."""

    def __init__(self, client: aioredis.Redis, keys: Keys, limits: Limits, embedded: bool) -> None:
        self.redis = client  # for tests and benchmarks that inspect; product code uses operations
        self.keys = keys
        self.data = AppData(client, keys)
        self.reads = Reads(client, keys)
        self.limits = limits
        self.embedded = embedded
        self._enqueue = client.register_script(scripts.ENQUEUE)
        self._claim = client.register_script(scripts.CLAIM)
        self._save_step = client.register_script(scripts.SAVE_STEP)
        self._reschedule = client.register_script(scripts.RESCHEDULE)
        self._finish = client.register_script(scripts.FINISH)
        self._extend = client.register_script(scripts.EXTEND)

    @classmethod
    def connect(
        cls,
        redis_url: str | None,
        prefix: str = "prbot",
        limits: Limits | None = None,
        max_connections: int = 64,
    ) -> Store:
        """Return a store on `redis_url`, or on an embedded in-process Redis when it is None."""
        if redis_url is None:
            import fakeredis  # imported lazily: production never loads it

            client: aioredis.Redis = fakeredis.FakeAsyncRedis(decode_responses=True)
        else:
            # A blocking pool: under load callers wait for a connection instead of failing.
            pool = aioredis.BlockingConnectionPool.from_url(
                redis_url,
                max_connections=max_connections,
                timeout=10,
                decode_responses=True,
                socket_connect_timeout=2,
                socket_timeout=5,
                health_check_interval=15,
            )
            client = aioredis.Redis.from_pool(pool)
        return cls(client, Keys(prefix), limits or Limits(), embedded=redis_url is None)

    async def close(self) -> None:
        """Close the connections."""
        await self.redis.aclose()

    async def ping(self) -> None:
        """Raise StoreUnavailableError unless the store answers."""
        with translate_errors():
            await self.redis.ping()

    def _config(self) -> list[str | int]:
        k, lim = self.keys, self.limits
        return [
            k.dedup_prefix, k.event_prefix, k.run_prefix, k.queue_prefix,
            lim.dedup_ttl_ms, lim.event_ttl_ms, lim.events_max, lim.runs_max, k.wake,
        ]  # fmt: skip

    @staticmethod
    def _events_args(items: Sequence[Enqueue]) -> list[str | int]:
        args: list[str | int] = [len(items)]
        for item in items:
            args += [item.event_id, item.record, "1" if item.dedup else "0", len(item.runs)]
            for r in item.runs:
                args += [r.run_id, r.function_id, r.concurrency_key, "1" if item.replay else "0"]
        return args

    async def enqueue(self, items: Sequence[Enqueue], now_ms: int) -> list[int]:
        """Store events and their runs atomically; per item 1 queued, 2 ignored, 0 duplicate."""
        k = self.keys
        with translate_errors():
            result = await self._enqueue(
                keys=[k.sched, k.runs, k.events],
                args=[now_ms, *self._config(), *self._events_args(items)],
            )
        return [int(x) for x in result]

    async def claim(self, now_ms: int, lease_ms: int, limit: int) -> ClaimBatch:
        """Lease up to `limit` due concurrency keys and return their head runs."""
        k = self.keys
        with translate_errors():
            raw = await self._claim(
                keys=[k.sched, k.lease],
                args=[
                    now_ms, lease_ms, limit, uuid.uuid4().hex, k.run_prefix,
                    k.event_prefix, k.queue_prefix, k.steps_suffix,
                ],
            )  # fmt: skip
        head, rows = raw[0], raw[1:]
        claims = [
            Claim(key, token, rid, _pairs(run), record, _pairs(steps))
            for key, token, rid, run, record, steps in rows
        ]
        return ClaimBatch(claims, int(float(head)) if head else None)

    async def save_step(
        self, claim: Claim, step_id: str, encoded: str, now_ms: int, entry: dict[str, Any]
    ) -> bool:
        """Save a step result if the lease is still ours; False when it was lost."""
        k = self.keys
        with translate_errors():
            ok = await self._save_step(
                keys=[k.lease, k.run(claim.run_id), k.steps(claim.run_id), k.log(claim.run_id)],
                args=[claim.key, claim.token, step_id, encoded, now_ms, json.dumps(entry)],
            )
        return bool(ok)

    async def reschedule(
        self,
        claim: Claim,
        at_ms: int,
        status: str,
        attempt: int,
        error: str,
        now_ms: int,
        entry: dict[str, Any] | None,
    ) -> bool:
        """Give the key back, due again at `at_ms`; the run stays at the head of its queue."""
        k = self.keys
        with translate_errors():
            ok = await self._reschedule(
                keys=[k.sched, k.lease, k.run(claim.run_id), k.log(claim.run_id)],
                args=[
                    claim.key, claim.token, at_ms, status, attempt, error, now_ms,
                    json.dumps(entry) if entry else "",
                ],
            )  # fmt: skip
        return bool(ok)

    async def finish(
        self,
        claim: Claim,
        status: str,
        field_name: str,
        value: str,
        now_ms: int,
        entry: dict[str, Any] | None,
        then: Sequence[Enqueue] = (),
    ) -> bool:
        """End a run (completed or failed), free its key and enqueue `then` in the same step."""
        k, rid = self.keys, claim.run_id
        ttl = self.limits.failed_ttl_ms if status == "failed" else self.limits.completed_ttl_ms
        with translate_errors():
            ok = await self._finish(
                keys=[
                    k.sched, k.lease, k.run(rid), k.steps(rid), k.log(rid),
                    k.runs_failed, k.runs, k.events,
                ],
                args=[
                    claim.key, claim.token, rid, status, now_ms, field_name, value, ttl,
                    json.dumps(entry) if entry else "", k.queue(claim.key),
                    *self._config(), *self._events_args(then),
                ],
            )  # fmt: skip
        return bool(ok)

    async def extend(self, leases: Sequence[tuple[str, str]], until_ms: int) -> list[str]:
        """Push the leases of held keys to `until_ms`; return the keys we no longer hold."""
        if not leases:
            return []
        flat = [x for pair in leases for x in pair]
        with translate_errors():
            lost = await self._extend(
                keys=[self.keys.sched, self.keys.lease], args=[until_ms, *flat]
            )
        return [str(x) for x in lost]

    @asynccontextmanager
    async def wake_messages(self) -> AsyncIterator[AsyncIterator[object]]:
        """Subscribe to the wake channel; yields an iterator of messages."""
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        with translate_errors():
            await pubsub.subscribe(self.keys.wake)
        try:
            yield pubsub.listen()
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
