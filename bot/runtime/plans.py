"""What the store is asked to write: planned runs and events, and how they travel to Lua."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

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
    cancelled_ttl_ms: int = 7 * DAY_MS
    idempotency_ttl_ms: int = DAY_MS
    # How far back `wait_for_event(lookback_s=…)` can see, and how many events per name.
    lookback_max_ms: int = DAY_MS
    recent_max: int = 1_000
    # A cron schedule's last tick is forgotten this long after its next tick was due (then
    # the schedule starts afresh at its next tick): a schedule dropped from the code goes.
    cron_idle_ms: int = 30 * DAY_MS


@dataclass(frozen=True)
class Throttled:
    """A run that waits for a start slot: at most `limit` starts per `period_ms` per `key`."""

    key: str
    limit: int
    period_ms: int


@dataclass(frozen=True)
class Debounced:
    """A run made only `period_ms` after the last event of its `key` (`max_ms` after the first)."""

    key: str
    period_ms: int
    max_ms: int | None


@dataclass(frozen=True)
class PlannedRun:
    """A run to create for an event, with the flow control that applies to it."""

    run_id: str
    function_id: str
    concurrency_key: str
    cancels: tuple[tuple[str, str, str], ...] = ()  # (event name, path, value key)
    throttle: Throttled | None = None
    debounce: Debounced | None = None
    idempotency_key: str | None = None
    rerun_of: str | None = None

    def spec(self, replay: bool) -> str:
        """Return the JSON the Lua side reads (absent fields stay absent: no nulls)."""
        out: dict[str, object] = {"id": self.run_id, "fn": self.function_id}
        out.update(key=self.concurrency_key, replay="1" if replay else "0")
        if self.cancels:
            out["cancels"] = json.dumps([list(c) for c in self.cancels])
        if self.throttle:
            t = self.throttle
            out.update(thr=t.key, thr_limit=t.limit, thr_period=t.period_ms)
        if self.debounce:
            d = self.debounce
            out.update(db=d.key, db_period=d.period_ms)
            if d.max_ms is not None:
                out["db_max"] = d.max_ms
        if self.idempotency_key is not None:
            out["idem"] = self.idempotency_key
        if self.rerun_of is not None:
            out["rerun_of"] = self.rerun_of
        return json.dumps(out, separators=(",", ":"))


@dataclass(frozen=True)
class Enqueue:
    """An event record to store, with the runs it makes; `dedup=False` bypasses the 24 h check.

    An empty `record` stores nothing and tells no listener: the event is already stored (rerun).
    """

    event_id: str
    record: str
    runs: Sequence[PlannedRun]
    dedup: bool = True
    replay: bool = False
    name: str = ""
    inbox: bool = False  # an accepted delivery (record stored): its runs are planned now


@dataclass(frozen=True)
class Accept:
    """A delivery to record and put in the inbox; `wanted`: a function's trigger names it."""

    event_id: str
    name: str
    record: bytes | str
    wanted: bool


def accept_args(items: Sequence[Accept]) -> list[str | int | bytes]:
    """Return the ARGV tail `accept_all` reads: a count, then four values per delivery."""
    args: list[str | int | bytes] = [len(items)]
    for item in items:
        args += [item.event_id, item.name, item.record, "1" if item.wanted else "0"]
    return args


def events_args(items: Sequence[Enqueue]) -> list[str | int]:
    """Return the ARGV tail `enqueue_all` reads: a count, then meta JSON and record per event."""
    args: list[str | int] = [len(items)]
    for item in items:
        meta = {"id": item.event_id, "name": item.name, "dedup": item.dedup}
        meta["runs"] = [r.spec(item.replay) for r in item.runs]
        if item.inbox:
            meta["inbox"] = True
        args += [json.dumps(meta, separators=(",", ":")), item.record]
    return args


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
    """What one claim call got, when the next work is due if it got nothing, and the outbox."""

    claims: list[Claim] = field(default_factory=list)
    next_due_ms: int | None = None
    cancelled_pending: int = 0
    accepted_pending: int = 0  # deliveries in the inbox, runs not planned yet
