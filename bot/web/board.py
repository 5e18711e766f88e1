"""The dashboard's reads: bounded pages of events and runs, one run, one PR, from the store."""

from __future__ import annotations

from dataclasses import dataclass

from bot.prs.mapping import ThreadStore
from bot.runtime import Clock, Event, Registry, Store, run_id_for
from bot.web.views import (
    CardOut,
    EventOut,
    EventPage,
    PrOut,
    RunDetail,
    RunOut,
    RunPage,
    clip,
    pr_of_event,
    pr_url,
    run_out,
    steps_out,
    stored_event,
    waiting,
    wants,
)

MAX_LIMIT = 200
PAGE = 200  # run or event ids read per round trip
SCAN_MAX = 5_000  # runs looked at per filtered request; `next` continues from there
PAYLOAD_SHOWN = 20_000
REPLAY_MARK = ".replay-"


@dataclass(frozen=True)
class EventDetail:
    """An event with its delivery headers and (the start of) its payload."""

    summary: EventOut
    meta: dict[str, str]
    payload: str


class Board:
    """Reads for people: every page is bounded, whatever the store holds."""

    def __init__(self, store: Store, registry: Registry, clock: Clock) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.threads = ThreadStore(store)

    async def runs(
        self,
        limit: int = 50,
        status: str | None = None,
        function: str | None = None,
        pr: str | None = None,
        cursor: int = 0,
    ) -> RunPage:
        """Return the newest runs passing the filters, scanning at most SCAN_MAX of them."""
        limit = max(1, min(limit, MAX_LIMIT))
        now, position = self.clock.now_ms(), max(0, cursor)
        found: list[RunOut] = []
        failed_index = status == "failed"
        while len(found) < limit and position - cursor < SCAN_MAX:
            ids = await self.store.reads.run_page(position, PAGE, failed_index)
            if not ids:
                return RunPage(runs=found, next=None, scanned=position - cursor)
            states = await self.store.reads.run_states(ids)
            for offset, (run_id, state) in enumerate(zip(ids, states, strict=True)):
                if not state:
                    continue
                run = run_out(run_id, state, now)
                if wants(run, status, function, pr):
                    found.append(run)
                    if len(found) == limit:
                        position += offset + 1
                        return RunPage(runs=found, next=position, scanned=position - cursor)
            position += len(ids)
        return RunPage(runs=found, next=position, scanned=position - cursor)

    async def run(self, run_id: str) -> RunDetail | None:
        """Return one run with its timeline and its event, or None when unknown or expired."""
        state, outputs, log = await self.store.reads.run(run_id)
        if not state:
            return None
        run = run_out(run_id, state, self.clock.now_ms())
        steps = steps_out(log, outputs)
        source = await self.event(run.event)
        return RunDetail(
            **run.model_dump(),
            steps=steps,
            waiting=waiting(run, steps, state),
            output=clip(state.get("output")),
            source=source.summary if source else None,
        )

    async def events(self, limit: int = 50, cursor: int = 0) -> EventPage:
        """Return the newest recorded events with the runs each made."""
        limit = max(1, min(limit, MAX_LIMIT))
        rows = await self.store.reads.event_page(max(0, cursor), limit)
        raws = await self.store.reads.event_records([event_id for event_id, _ in rows])
        parsed = []
        for (_, received), raw in zip(rows, raws, strict=True):
            got = stored_event(raw) if raw else None
            if got is not None:
                parsed.append((got[0], int(received)))
        events = await self._with_runs(parsed)
        more = len(rows) == limit
        return EventPage(events=events, next=max(0, cursor) + limit if more else None)

    async def event(self, event_id: str) -> EventDetail | None:
        """Return one event with its headers and payload, or None when unknown or expired."""
        raw, received = await self.store.reads.event(event_id)
        got = stored_event(raw) if raw else None
        if got is None:
            return None
        event, meta = got
        [summary] = await self._with_runs([(event, int(received or event.ts))])
        payload = event.model_dump_json(indent=2)
        if len(payload) > PAYLOAD_SHOWN:
            payload = payload[:PAYLOAD_SHOWN] + f"\n… (+{len(payload) - PAYLOAD_SHOWN} characters)"
        return EventDetail(summary, meta, payload)

    async def _with_runs(self, events: list[tuple[Event, int]]) -> list[EventOut]:
        # A run's id derives from (event id, function id): the runs an event made are found
        # from the functions that match it, without scanning the run index.
        planned = [
            [run_id_for(event.id, fn.id) for fn in self.registry.matching(event)]
            for event, _ in events
        ]
        flat = [run_id for ids in planned for run_id in ids]
        states = dict(zip(flat, await self.store.reads.run_states(flat), strict=True))
        repeats = await self.store.reads.duplicates([event.id for event, _ in events])
        now = self.clock.now_ms()
        return [
            EventOut(
                id=event.id,
                name=event.name,
                received_ms=received,
                pr=pr_of_event(event),
                outcome="queued" if ids else "ignored",
                duplicates=dups,
                replay=REPLAY_MARK in event.id,
                runs=[run_out(r, states[r], now) for r in ids if states.get(r)],
            )
            for (event, received), ids, dups in zip(events, planned, repeats, strict=True)
        ]

    async def pr(self, pr: str) -> PrOut:
        """Return a PR's card and its runs, oldest first (from the newest SCAN_MAX runs)."""
        record = await self.threads.get(pr)
        card = CardOut.model_validate(record.model_dump()) if record is not None else None
        page = await self.runs(limit=MAX_LIMIT, pr=pr)
        runs: list[RunOut] = sorted(page.runs, key=lambda r: (r.created_ms, r.id))
        return PrOut(pr=pr, url=pr_url(pr), card=card, runs=runs, complete=page.next is None)
