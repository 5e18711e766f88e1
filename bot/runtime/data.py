"""Application data the store keeps for the product: records (hashes), locks and a shared pace.

Everything is a named operation on keys built by `Keys.data`; callers never hold the Redis client.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from bot.runtime.keys import Keys
from bot.runtime.translate import translate_errors

UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# Take the lock, or re-enter it when it already holds our token: a run resumed after its worker
# died (or lost Redis mid-step) must not wait out the TTL of the lock its earlier attempt left.
LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""
# A lock that lives in a run (KEYS: its claims hash, its state hash; ARGV: name, token): it goes
# when the run ends. Only a running run takes one: a worker that lost its run gets 0 (held).
RUN_LOCK = """
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held then return held == ARGV[2] and 1 or 0 end
if redis.call('HGET', KEYS[2], 'status') ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""
RUN_UNLOCK = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
return redis.call('HDEL', KEYS[1], ARGV[1])
"""
# KEYS: the pace key. ARGV: now_ms, interval_ms, burst_ms. Returns how long to wait (ms).
# A generic cell rate algorithm: the key holds the theoretical arrival time (TAT) of the next
# request; a request may go when TAT is at most `burst_ms` ahead of now, and moves TAT one
# interval further.
RESERVE = """
local now, interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - burst - now
if wait < 0 then wait = 0 end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.ceil(tat + interval - now) + 1000)
return wait
"""


class DataScript:
    """A Lua script of the product's over its own data keys, run atomically like the store's."""

    def __init__(self, script: AsyncScript, keys: Keys) -> None:
        self._script = script
        self._keys = keys

    async def __call__(
        self, keys: Sequence[tuple[str, ...]], args: Sequence[str | int | float | bytes] = ()
    ) -> Any:
        """Run it on the data keys named by `keys` (parts after `data:`) with `args`."""
        names = [self._keys.data(*parts) for parts in keys]
        with translate_errors():
            return await self._script(keys=names, args=list(args))


class AppData:
    """Records, locks and paces under `<prefix>:data:…`, each operation atomic."""

    def __init__(self, client: aioredis.Redis, keys: Keys) -> None:
        self._redis = client
        self._keys = keys
        self._lock = client.register_script(LOCK)
        self._unlock = client.register_script(UNLOCK)
        self._run_lock = client.register_script(RUN_LOCK)
        self._run_unlock = client.register_script(RUN_UNLOCK)
        self._reserve = client.register_script(RESERVE)

    def script(self, lua: str) -> DataScript:
        """Register a Lua script over data keys (KEYS), for writes that must be atomic."""
        return DataScript(self._redis.register_script(lua), self._keys)

    async def get(self, kind: str, name: str) -> dict[str, str]:
        """Return every field of the record `kind/name` (empty when there is none)."""
        with translate_errors():
            return cast(dict[str, str], await self._redis.hgetall(self._keys.data(kind, name)))

    async def field(self, kind: str, name: str, field: str) -> str | None:
        """Return one field of a record, None when unset."""
        with translate_errors():
            value = await self._redis.hget(self._keys.data(kind, name), field)
        return cast(str | None, value)

    async def update(
        self, kind: str, name: str, fields: Mapping[str, str], ttl_ms: int | None = None
    ) -> None:
        """Write some fields of a record; with `ttl_ms` the whole record expires that long after."""
        key = self._keys.data(kind, name)
        with translate_errors():
            async with self._redis.pipeline(transaction=True) as pipe:
                mapping: dict[Any, Any] = dict(fields)
                pipe.hset(key, mapping=mapping)
                if ttl_ms is not None:
                    pipe.pexpire(key, ttl_ms)
                await pipe.execute()

    async def forget(self, kind: str, name: str) -> None:
        """Delete a record."""
        with translate_errors():
            await self._redis.delete(self._keys.data(kind, name))

    async def lock(self, name: str, token: str, ttl_ms: int, run_id: str | None = None) -> bool:
        """Take (or re-enter) the lock `name`; False while another token holds it.

        With `run_id` the lock lives in that run instead of `ttl_ms`: it goes when the run ends,
        and only a running run can take it.
        """
        with translate_errors():
            if run_id is not None:
                keys = [self._keys.claims(run_id), self._keys.run(run_id)]
                return bool(await self._run_lock(keys=keys, args=[name, token]))
            got = await self._lock(keys=[self._keys.data("lock", name)], args=[token, ttl_ms])
        return bool(got)

    async def unlock(self, name: str, token: str, run_id: str | None = None) -> None:
        """Release the lock if it is still ours (compare-and-delete in one script)."""
        with translate_errors():
            if run_id is not None:
                await self._run_unlock(keys=[self._keys.claims(run_id)], args=[name, token])
                return
            await self._unlock(keys=[self._keys.data("lock", name)], args=[token])

    async def reserve(self, name: str, now_ms: float, interval_ms: float, burst_ms: float) -> float:
        """Reserve the next slot of the shared pace `name`; return the ms to wait before it."""
        with translate_errors():
            wait_ms = await self._reserve(
                keys=[self._keys.data(name, "pace")], args=[now_ms, interval_ms, burst_ms]
            )
        return float(wait_ms)
