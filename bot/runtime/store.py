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
from bot.runtime.control import Control
from bot.runtime.data import AppData
from bot.runtime.keys import Keys
from bot.runtime.plans import (
    DAY_MS,
    Accept,
    Claim,
    ClaimBatch,
    Enqueue,
    Limits,
    PlannedRun,
    accept_args,
    events_args,
)
from bot.runtime.reads import Reads
from bot.runtime.scriptset import ScriptSet
from bot.runtime.translate import translate_errors

__all__ = [
    "DAY_MS", "Accept", "Claim", "ClaimBatch", "Enqueue", "Enqueued", "Limits", "PlannedRun",
    "Store",
    "WaitReply",
]  # fmt: skip


@dataclass(frozen=True)
class Enqueued:
    """Per event 1 queued, 2 ignored, 0 duplicate, 3 gone; and how many runs it cancelled."""

    codes: list[int]
    cancelled: int


@dataclass(frozen=True)
class WaitReply:
    """What the store said to a waiting step: candidates, timed out, parked, cancelled or lost."""

    outcome: str  # candidates | timeout | parked | cancelled | lost
    deadline_ms: int = 0
    candidates: list[tuple[str, int, str]] = field(default_factory=list)  # id, ms, record


_NO_TIMER = 2**62  # the last claim saw no timer at all (each claim looks again)
_WAIT = {1: "parked", 2: "cancelled", 3: "candidates", 4: "timeout"}


def _pairs(flat: Sequence[str]) -> dict[str, str]:
    return dict(zip(flat[::2], flat[1::2], strict=True))


class Store:
    """Queue, run state, dedup and app data in Redis, every change atomic (see scripts.py)."""

    def __init__(self, client: aioredis.Redis, keys: Keys, limits: Limits, embedded: bool) -> None:
        self.redis = client  # for tests and benchmarks that inspect; product code uses operations
        self.keys = keys
        self.data = AppData(client, keys)
        self.reads = Reads(client, keys, embedded)
        self.limits = limits
        self.embedded = embedded
        self._scripts = ScriptSet(client, keys, limits)
        self._timers_due_ms: int | None = None  # unknown: fire once before the first claim
        self.control = Control(client, keys, self.scripts)
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

    def scripts(self) -> ScriptSet:
        """Return the scripts for the current limits (tests may change `limits`)."""
        if self._scripts.limits is not self.limits:
            self._scripts = ScriptSet(self.redis, self.keys, self.limits)
        return self._scripts

    async def enqueue(self, items: Sequence[Enqueue], now_ms: int) -> Enqueued:
        """Store events and their runs atomically; tell runs waiting for or cancelled by them."""
        with translate_errors():
            result = await self.scripts().enqueue(args=[now_ms, *events_args(items)])
        return Enqueued([int(x) for x in result[1:]], int(result[0]))

    async def accept(self, items: Sequence[Accept], now_ms: int) -> Enqueued:
        """Record deliveries and put them in the inbox, deduplicated, in one atomic call."""
        with translate_errors():
            result = await self.scripts().accept(args=[now_ms, *accept_args(items)])
        return Enqueued([int(x) for x in result], 0)

    async def claim(self, now_ms: int, lease_ms: int, limit: int) -> ClaimBatch:
        """Wake due timers, then lease up to `limit` due concurrency keys and return their heads.

        Timers are fired by a script of their own, only when the last claim saw one due: the
        claim script stays small (the embedded store compiles a script on every call).
        """
        with translate_errors():
            if self._timers_due_ms is None or self._timers_due_ms <= now_ms:
                await self.scripts().fire(args=[now_ms, 100])
            raw = await self.scripts().claim(args=[now_ms, lease_ms, limit, uuid.uuid4().hex])
        head, outbox, timers, inbox, rows = raw[0], int(raw[1]), raw[2], int(raw[3]), raw[4:]
        self._timers_due_ms = int(timers) if timers else _NO_TIMER
        claims = [
            Claim(key, token, rid, _pairs(run), record, _pairs(steps))
            for key, token, rid, run, record, steps in rows
        ]
        return ClaimBatch(claims, int(float(head)) if head else None, outbox, inbox)

    def _fenced(self, claim: Claim, now_ms: int, *rest: str | int) -> list[str | int]:
        return [claim.key, claim.token, claim.run_id, now_ms, *rest]

    async def save_step(
        self, claim: Claim, step_id: str, encoded: str, now_ms: int, entry: dict[str, Any]
    ) -> int:
        """Save a step result under our lease: 1 saved, 2 saved but asked to cancel, 0 lost."""
        with translate_errors():
            return int(
                await self.scripts().save_step(
                    args=self._fenced(claim, now_ms, step_id, encoded, json.dumps(entry))
                )
            )

    async def end_cancelled(self, claim: Claim, now_ms: int, reason: str) -> bool:
        """End the run we hold as cancelled (it was asked to while we ran); False if lost."""
        with translate_errors():
            return bool(
                await self.scripts().end_cancelled(args=self._fenced(claim, now_ms, reason))
            )

    async def reschedule(
        self,
        claim: Claim,
        at_ms: int,
        status: str,
        attempt: int,
        error: str,
        now_ms: int,
        entry: dict[str, Any] | None,
    ) -> int:
        """Give the key back, due again at `at_ms`, the run still its head; 2 asked to cancel."""
        log = json.dumps(entry) if entry else ""
        with translate_errors():
            return int(
                await self.scripts().reschedule(
                    args=self._fenced(claim, now_ms, at_ms, status, attempt, error, log)
                )
            )

    async def sleep(self, claim: Claim, until_ms: int, now_ms: int, entry: dict[str, Any]) -> int:
        """Park the run off its queue until `until_ms`; 1 parked, 2 asked to cancel, 0 lost."""
        with translate_errors():
            return int(
                await self.scripts().sleep(
                    args=self._fenced(claim, now_ms, until_ms, json.dumps(entry))
                )
            )

    async def wait(
        self,
        claim: Claim,
        spec: dict[str, object],
        consumed: Sequence[str],
        now_ms: int,
    ) -> WaitReply:
        """Register a wait (once), return its candidate events, or park the run until one comes."""
        args = [json.dumps(spec), json.dumps(list(consumed))]
        with translate_errors():
            raw = await self.scripts().wait(args=self._fenced(claim, now_ms, *args))
        if not isinstance(raw, list):
            return WaitReply("lost")
        deadline = int(float(raw[1])) if len(raw) > 1 else 0
        flat = raw[2:]
        candidates = [
            (str(flat[i]), int(float(flat[i + 1])), str(flat[i + 2]))
            for i in range(0, len(flat), 3)
        ]
        return WaitReply(_WAIT[int(raw[0])], deadline, candidates)

    async def finish(
        self,
        claim: Claim,
        status: str,
        field_name: str,
        value: str,
        now_ms: int,
        entry: dict[str, Any] | None,
        then: Sequence[Enqueue] = (),
    ) -> int:
        """End a run (completed or failed), free its key and enqueue `then` in the same step.

        Return 1, or 2 when the run was asked to cancel meanwhile (`value` is kept, `then`
        dropped: end it with `end_cancelled`); 0 when the lease was lost.
        """
        log = json.dumps(entry) if entry else ""
        script = self.scripts().finish_then if then else self.scripts().finish
        with translate_errors():
            ok = await script(
                args=self._fenced(
                    claim, now_ms, status, field_name, value, log, *events_args(then)
                )
            )  # fmt: skip
        return int(ok)

    async def extend(self, leases: Sequence[tuple[str, str]], until_ms: int) -> list[str]:
        """Push the leases of held keys to `until_ms`; return the keys others hold now."""
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
