"""The queue scripts as one store registers them: its key names and limits written into each."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from bot.runtime import scripts
from bot.runtime.keys import Keys
from bot.runtime.lua import config_lua
from bot.runtime.plans import Limits


def config(keys: Keys, limits: Limits) -> dict[str, str | int]:
    """Return the table `c` the Lua library reads (lua.py)."""
    k, lim = keys, limits
    return {
        "sched": k.sched, "lease": k.lease, "runs": k.runs, "runs_failed": k.runs_failed,
        "events": k.events, "wake": k.wake, "timers": k.timers, "outbox": k.outbox,
        "inbox": k.inbox,
        "dp": k.dedup_prefix, "ep": k.event_prefix, "rp": k.run_prefix, "qp": k.queue_prefix,
        "lp": k.listen_prefix, "onp": k.on_prefix, "recp": k.recent_prefix,
        "idp": k.idempotency_prefix, "dbp": k.debounce_prefix, "thp": k.throttle_prefix,
        "ss": k.steps_suffix, "ls": k.log_suffix, "cs": k.candidates_suffix,
        "cls": k.claims_suffix, "hs": k.holds_suffix, "dus": k.duplicates_suffix,
        "dedup_ttl": lim.dedup_ttl_ms, "event_ttl": lim.event_ttl_ms,
        "events_max": lim.events_max, "runs_max": lim.runs_max,
        "failed_max": min(lim.runs_max, lim.events_max),
        "idem_ttl": lim.idempotency_ttl_ms, "recent_ttl": lim.lookback_max_ms,
        "recent_max": min(lim.recent_max, lim.events_max), "ttl_completed": lim.completed_ttl_ms,
        "ttl_failed": lim.failed_ttl_ms, "ttl_cancelled": lim.cancelled_ttl_ms,
    }  # fmt: skip


class ScriptSet:
    """Every queue script registered on `client` for one key prefix and one set of limits.

    The config is part of the script text rather than an argument: nothing to pass or decode on
    each call (the embedded store parses every argument and compiles the text on every call).
    """

    def __init__(self, client: aioredis.Redis, keys: Keys, limits: Limits) -> None:
        self.limits = limits
        head = config_lua(config(keys, limits))

        def register(body: str) -> AsyncScript:
            return client.register_script(head + body)

        self.enqueue = register(scripts.ENQUEUE)
        self.accept = register(scripts.ACCEPT)
        self.fire = register(scripts.FIRE)
        self.claim = register(scripts.CLAIM)
        self.save_step = register(scripts.SAVE_STEP)
        self.end_cancelled = register(scripts.END_CANCELLED)
        self.reschedule = register(scripts.RESCHEDULE)
        self.sleep = register(scripts.SLEEP)
        self.wait = register(scripts.WAIT)
        self.finish = register(scripts.FINISH)
        self.finish_then = register(scripts.FINISH_THEN)
        self.cancel = register(scripts.CANCEL)
        self.flush = register(scripts.FLUSH)
        self.cron = register(scripts.CRON)
