"""Read runs back for people: the `prbot runs` table and the `prbot runs show` timeline."""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, field
from typing import Any

from bot.runtime.events import Event
from bot.runtime.store import Store


@dataclass(frozen=True)
class RunSummary:
    """One row of `prbot runs`."""

    run_id: str
    function_id: str
    event_id: str
    status: str
    attempts: int
    created_ms: int
    replay: bool


@dataclass(frozen=True)
class RunDetail:
    """A run with its saved steps and timeline."""

    summary: RunSummary
    state: dict[str, str]
    steps: dict[str, str]
    timeline: list[dict[str, Any]] = field(default_factory=list)


def _summary(run_id: str, state: dict[str, str]) -> RunSummary:
    return RunSummary(
        run_id=run_id,
        function_id=state.get("fn", "?"),
        event_id=state.get("event", "?"),
        status=state.get("status", "?"),
        attempts=int(state.get("claims", "0")),
        created_ms=int(state.get("created", "0")),
        replay=state.get("replay") == "1",
    )


async def list_runs(
    store: Store, limit: int = 20, failed: bool = False, function_id: str | None = None
) -> list[RunSummary]:
    """Return the newest runs, optionally only failed ones or one function's."""
    out: list[RunSummary] = []
    start, page = 0, max(limit, 100)
    while len(out) < limit:
        ids = await store.reads.run_page(start, page, failed)
        if not ids:
            break
        states = await store.reads.run_states(ids)
        for run_id, state in zip(ids, states, strict=True):
            if state and (function_id is None or state.get("fn") == function_id):
                out.append(_summary(run_id, state))
        start += page
    return out[:limit]


async def get_run(store: Store, run_id: str) -> RunDetail | None:
    """Return a run with its steps and timeline, or None when unknown or expired."""
    state, steps, log = await store.reads.run(run_id)
    if not state:
        return None
    timeline = [json.loads(entry) for entry in log]
    return RunDetail(_summary(run_id, state), state, steps, timeline)


def age(ms: int) -> str:
    """Return a short human age for a duration in milliseconds: 42s, 5m, 3h, 2d."""
    seconds = max(0, ms // 1000)
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Return a plain aligned text table."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in
              enumerate(headers)]  # fmt: skip
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def format_runs(runs: list[RunSummary], now_ms: int) -> str:
    """Return the `prbot runs` table."""
    rows = [
        [
            r.run_id,
            r.function_id,
            r.event_id + (" (replay)" if r.replay else ""),
            r.status,
            str(r.attempts),
            age(now_ms - r.created_ms),
        ]
        for r in runs
    ]
    return table(["RUN", "FUNCTION", "EVENT", "STATUS", "ATTEMPTS", "AGE"], rows)


def format_run(detail: RunDetail, now_ms: int) -> str:
    """Return the `prbot runs show` report: state, then the step timeline."""
    s, st = detail.summary, detail.state
    head = [
        f"run       {s.run_id}" + ("  (replay)" if s.replay else ""),
        f"function  {s.function_id}",
        f"event     {s.event_id}",
        f"status    {s.status}  (claimed {s.attempts}x, age {age(now_ms - s.created_ms)})",
    ]
    if st.get("error"):
        head.append(f"error     {st['error']}")
    head += _parked(st, now_ms)
    rows = [_timeline_row(e, s.created_ms) for e in detail.timeline]
    steps = table(["AT", "STEP", "STATUS", "ATTEMPT", "DURATION", "DETAIL"], rows)
    return "\n".join([*head, "", steps])


def _parked(st: dict[str, str], now_ms: int) -> list[str]:
    # Why the run is not running now: what it waits for, and until when; or who cancelled it.
    status, lines = st.get("status"), []
    if status == "waiting" and st.get("wait_until"):
        until = age(int(st["wait_until"]) - now_ms)
        lines.append(f"waiting   for {st.get('wait_event', '?')} (times out in {until})")
    elif status in ("retrying", "sleeping") and st.get("next_at"):
        lines.append(f"next at   in {age(int(st['next_at']) - now_ms)}")
    if st.get("cancel"):
        lines.append(f"cancel    asked ({st['cancel']}); it stops after its current step")
    if st.get("cancelled_by"):
        lines.append(f"cancelled by {st['cancelled_by']}")
    return lines


def _timeline_row(entry: dict[str, Any], start_ms: int) -> list[str]:
    at = int(entry.get("at", start_ms))
    duration = entry.get("duration_ms")
    detail = str(entry.get("error", ""))
    if "until" in entry:
        detail = f"until +{age(int(entry['until']) - start_ms)}"
        if "event" in entry:
            detail = f"{entry['event']} {detail}"
    if "retry_at" in entry:
        detail += f" (retry at +{age(int(entry['retry_at']) - start_ms)})"
    return [
        f"+{(at - start_ms) / 1000:.3f}s",
        str(entry.get("step", "?")),
        str(entry.get("status", "?")),
        str(entry.get("attempt", "")),
        f"{duration:.1f} ms" if isinstance(duration, int | float) else "",
        detail,
    ]


@dataclass(frozen=True)
class StoredEvent:
    """A recorded event (for GitHub: a delivery) with the headers kept beside it."""

    event: Event
    meta: dict[str, str]
    received_ms: int


async def get_event(store: Store, event_id: str) -> StoredEvent | None:
    """Return one recorded event, or None when unknown or expired."""
    raw, score = await store.reads.event(event_id)
    return _stored(raw, score) if raw else None


def _stored(raw: str, score: float | None) -> StoredEvent:
    record = json.loads(raw)
    event = Event.model_validate(record["event"])
    received = int(score) if score is not None else event.ts
    return StoredEvent(event, {str(k): str(v) for k, v in record.get("meta", {}).items()}, received)


async def list_events(store: Store, limit: int = 20, name: str | None = None) -> list[StoredEvent]:
    """Return the newest recorded events first, optionally only those named `name`."""
    out: list[StoredEvent] = []
    start, page = 0, max(limit, 100)
    while len(out) < limit:
        rows = await store.reads.event_page(start, page)
        if not rows:
            break
        raws = await store.reads.event_records([event_id for event_id, _ in rows])
        for (_, score), raw in zip(rows, raws, strict=True):
            if raw:
                stored = _stored(raw, score)
                if name is None or fnmatch.fnmatchcase(stored.event.name, name):
                    out.append(stored)
        start += page
    return out[:limit]


def format_events(events: list[StoredEvent], now_ms: int) -> str:
    """Return the `prbot events` table."""
    rows = [
        [e.event.id, e.event.name, _subject(e.event), age(now_ms - e.received_ms)] for e in events
    ]
    return table(["ID", "EVENT", "SUBJECT", "AGE"], rows)


def _subject(event: Event) -> str:
    # A short "owner/repo#N" for GitHub payloads; whatever is there, never the body.
    repo = event.data.get("repository")
    name = repo.get("full_name", "") if isinstance(repo, dict) else ""
    for key in ("pull_request", "issue"):
        item = event.data.get(key)
        if isinstance(item, dict) and "number" in item:
            return f"{name}#{item['number']}"
    return str(name)
