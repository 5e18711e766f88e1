"""Backfill: find the webhook deliveries prbot never accepted and ask GitHub to send them again.

GitHub never redelivers a failed delivery by itself, and keeps deliveries 3 days. Attempts of
one delivery share its `guid` (= `X-GitHub-Delivery`, prbot's dedup id), so a delivery is missed
when none of its attempts got a 2xx answer and prbot's store has no record of that id. A guid
prbot asked to redeliver is left alone until GitHub shows a newer attempt of it, so running
backfill twice in a row asks for nothing new.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from bot.github.auth import Sleep
from bot.github.hooks import HookDeliveries
from bot.github.shapes import HookDelivery, HookRef
from bot.runtime import Clock, PrbotError, RetryAfterError, Store

log = logging.getLogger(__name__)

KEPT_S = 3 * 86_400  # how long GitHub keeps deliveries
ASKED = "backfill-asked"
ASKED_TTL_MS = 3_600_000  # after an hour without a new attempt, ask again
MAX_WAIT_S = 60.0  # a rate limit shorter than this is waited out; a longer one ends the run
# A delivery the receiver refused this many times as malformed is not asked for again (an
# outage, 5xx or no answer, is always asked for again: it heals).
MAX_REFUSALS = 3
REFUSED = frozenset({400, 413, 415, 422})

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Missed:
    """A delivery with no successful attempt: what to redeliver, and what it was."""

    guid: str
    newest_id: int  # the newest attempt: redelivered, and the mark of a later ask
    event: str
    action: str | None
    first_ms: int
    attempts: int
    last_status: int

    @property
    def name(self) -> str:
        """Return `event.action` (or the event)."""
        return f"{self.event}.{self.action}" if self.action else self.event


def missed(attempts: Iterable[HookDelivery]) -> list[Missed]:
    """Group attempts by guid; return the guids without a 2xx attempt, oldest first."""
    by_guid: dict[str, list[HookDelivery]] = {}
    for attempt in attempts:
        by_guid.setdefault(attempt.guid, []).append(attempt)
    found = []
    for guid, tries in by_guid.items():
        if any(t.ok for t in tries):
            continue
        newest = max(tries, key=lambda t: t.id)
        first = min(t.delivered_ms for t in tries)
        found.append(
            Missed(guid, newest.id, newest.event, newest.action, first, len(tries),
                   newest.status_code)
        )  # fmt: skip
    return sorted(found, key=lambda m: (m.first_ms, m.newest_id))


def hopeless(item: Missed) -> bool:
    """Tell whether the receiver keeps refusing this delivery's body (no use asking again)."""
    return item.last_status in REFUSED and item.attempts >= MAX_REFUSALS


def awaiting(item: Missed, asked_after_id: int | None) -> bool:
    """Tell whether a redelivery we asked for has not been attempted yet."""
    return asked_after_id is not None and item.newest_id <= asked_after_id


@dataclass
class Summary:
    """What one backfill saw and did."""

    since_s: float
    dry_run: bool = False
    attempts: int = 0
    deliveries: int = 0
    missed: list[Missed] = field(default_factory=list)  # to redeliver (or listed, dry run)
    accepted: int = 0  # failed on GitHub's side, yet prbot has them
    awaiting: int = 0  # asked for already; GitHub has not tried again yet
    gave_up: list[Missed] = field(default_factory=list)  # refused as malformed, again
    redelivered: int = 0
    failed: list[str] = field(default_factory=list)  # "guid: why"
    stopped: str | None = None  # why the run ended early


class Backfill:
    """List a webhook's recent deliveries and redeliver the ones prbot missed."""

    def __init__(
        self,
        hooks: HookDeliveries,
        hook: HookRef,
        store: Store,
        clock: Clock,
        sleep: Sleep,
        *,
        max_wait_s: float = MAX_WAIT_S,
    ) -> None:
        self.hooks = hooks
        self.hook = hook
        self.store = store
        self.clock = clock
        self.sleep = sleep
        self.max_wait_s = max_wait_s

    async def run(
        self, since_s: float = KEPT_S, *, dry_run: bool = False, progress: Progress | None = None
    ) -> Summary:
        """Redeliver what was missed in the last `since_s` (`dry_run`: only say what)."""
        summary = await self.plan(since_s)
        summary.dry_run = dry_run
        if not dry_run:
            await self.redeliver(summary, progress)
        return summary

    async def plan(self, since_s: float = KEPT_S) -> Summary:
        """List the last `since_s` of deliveries and decide which ones prbot missed."""
        summary = Summary(since_s)
        attempts = await self._attempts(self.clock.now_ms() - int(since_s * 1000))
        summary.attempts = len(attempts)
        summary.deliveries = len({a.guid for a in attempts})
        candidates = missed(attempts)
        accepted = await self._accepted([m.guid for m in candidates])
        asked = await self._asked([m.guid for m in candidates])
        for item in candidates:
            if item.guid in accepted:
                summary.accepted += 1
            elif awaiting(item, asked.get(item.guid)):
                summary.awaiting += 1
            elif hopeless(item):
                summary.gave_up.append(item)
            else:
                summary.missed.append(item)
        return summary

    async def _attempts(self, cutoff_ms: int) -> list[HookDelivery]:
        found = []
        async for attempt in self.hooks.newest_first(self.hook):
            if attempt.delivered_ms < cutoff_ms:
                break  # newest first: everything after this is older still
            found.append(attempt)
        return found

    async def _accepted(self, guids: list[str]) -> set[str]:
        """Return the guids prbot's store recorded (kept DELIVERY_RETENTION_DAYS)."""
        records = await self.store.reads.event_records(guids) if guids else []
        return {guid for guid, record in zip(guids, records, strict=True) if record is not None}

    async def _asked(self, guids: list[str]) -> dict[str, int]:
        asked = {}
        for guid in guids:
            after = await self.store.data.field(ASKED, guid, "after_id")
            if after is not None:
                asked[guid] = int(after)
        return asked

    async def redeliver(self, summary: Summary, progress: Progress | None = None) -> None:
        """Ask GitHub to redeliver each missed delivery of `summary`, counting in it."""
        total = len(summary.missed)
        for done, item in enumerate(summary.missed, start=1):
            try:
                await self._redeliver(item)
            except RetryAfterError as exc:
                summary.stopped = f"rate limited by GitHub for {exc.seconds:.0f} s: {exc}"
                log.warning("backfill stopped after %d of %d: %s", done - 1, total, exc)
                return
            except PrbotError as exc:
                summary.failed.append(f"{item.guid}: {exc}")
                log.warning("backfill could not redeliver delivery=%s: %s", item.guid, exc)
            else:
                summary.redelivered += 1
                log.info("backfill redelivered delivery=%s event=%s", item.guid, item.name)
            if progress is not None:
                progress(done, total)

    async def _redeliver(self, item: Missed) -> None:
        try:
            await self.hooks.redeliver(self.hook, item.newest_id)
        except RetryAfterError as exc:
            if exc.seconds > self.max_wait_s:
                raise
            await self.sleep(exc.seconds)
            await self.hooks.redeliver(self.hook, item.newest_id)
        record = {"after_id": str(item.newest_id)}
        await self.store.data.update(ASKED, item.guid, record, ttl_ms=ASKED_TTL_MS)
