"""What the dashboard and its JSON API show, built from stored records. Pure: no I/O."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, computed_field

from bot.github.payloads import pr_key_of
from bot.runtime import FUNCTION_FAILED, Event

# Runs that may still change; the others are finished.
ACTIVE = frozenset({"queued", "running", "sleeping", "waiting", "retrying"})
FINISHED = frozenset({"completed", "failed", "cancelled"})
STATUSES = ("queued", "running", "sleeping", "waiting", "retrying", "completed", "failed",
            "cancelled")  # fmt: skip
OUTPUT_SHOWN = 4_000  # characters of a saved step result or run output
_PR_IN_KEY = re.compile(r"^key:([\w.-]+/[\w.-]+#\d+)(?::|$)")
_INTERNAL_STEPS = {"$end": "end", "$handler": "handler", "$cancel": "cancel"}


class RunOut(BaseModel):
    """One run: its function, event, state, attempts and timing."""

    id: str
    function: str
    event: str
    status: str
    attempts: int
    created_ms: int
    finished_ms: int | None
    duration_ms: int | None
    next_at_ms: int | None
    error: str | None
    pr: str | None
    replay: bool
    rerun_of: str | None = None
    cancelled_by: str | None = None
    cancelling: bool = False  # asked to cancel while running: it stops after its current step


class StepOut(BaseModel):
    """One entry of a run's step timeline."""

    step: str
    status: str
    attempt: int | None
    start_ms: int | None
    end_ms: int | None
    duration_ms: float | None
    error: str | None
    output: str | None
    until_ms: int | None
    retry_at_ms: int | None
    event: str | None = None  # what a waiting step waits for


class EventOut(BaseModel):
    """A recorded event (a GitHub delivery: the id is the delivery id) and the runs it made."""

    id: str
    name: str
    received_ms: int
    pr: str | None
    outcome: Literal["queued", "ignored"]
    duplicates: int = 0  # repeats of this delivery answered `duplicate` (GitHub redeliveries)
    replay: bool
    runs: list[RunOut]


class RunDetail(RunOut):
    """A run with its step timeline, what it waits for, its output and its event."""

    steps: list[StepOut]
    waiting: str | None
    output: str | None
    source: EventOut | None


class RunPage(BaseModel):
    """A page of runs; `next` continues the scan where this page stopped (None: the end)."""

    runs: list[RunOut]
    next: int | None
    scanned: int


class EventPage(BaseModel):
    """A page of events, newest first."""

    events: list[EventOut]
    next: int | None


class CardOut(BaseModel):
    """What prbot keeps about a PR's thread: the state its card and name show."""

    thread_id: int
    channel_id: int
    guild_id: int | None = None
    name: str
    state: str
    review: str | None
    archived: bool
    locked: bool
    forum: bool

    @computed_field  # type: ignore[prop-decorator]
    @property
    def link(self) -> str | None:
        """Return the thread's Discord link (known once prbot has seen the thread's server)."""
        if self.guild_id is None:
            return None
        return f"https://discord.com/channels/{self.guild_id}/{self.thread_id}"


class PrOut(BaseModel):
    """A pull request: its thread and card, and its runs oldest first."""

    pr: str
    url: str
    card: CardOut | None
    runs: list[RunOut]
    complete: bool  # False when older runs may lie beyond the scanned window


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value else None
    except ValueError:
        return None


def pr_of_key(key: str | None) -> str | None:
    """Return the PR (`owner/repo#N`) of a concurrency key such as `key:o/r#1:rename`."""
    match = _PR_IN_KEY.match(key or "")
    return match.group(1) if match else None


def run_out(run_id: str, state: Mapping[str, str], now_ms: int) -> RunOut:
    """Return a run as shown, from its state hash."""
    created = _int(state.get("created")) or 0
    finished = _int(state.get("finished"))
    status = state.get("status", "?")
    end = finished if finished is not None else (now_ms if status in ACTIVE else None)
    return RunOut(
        id=run_id,
        function=state.get("fn", "?"),
        event=state.get("event", "?"),
        status=status,
        attempts=_int(state.get("claims")) or 0,
        created_ms=created,
        finished_ms=finished,
        duration_ms=max(0, end - created) if end is not None and created else None,
        next_at_ms=_int(state.get("next_at")) if status in ACTIVE else None,
        error=state.get("error") or None,
        pr=pr_of_key(state.get("key")),
        replay=state.get("replay") == "1",
        rerun_of=state.get("rerun_of") or None,
        cancelled_by=state.get("cancelled_by") or None,
        cancelling=bool(state.get("cancel")) and status == "running",
    )


def wants(run: RunOut, status: str | None, function: str | None, pr: str | None) -> bool:
    """Tell whether a run passes the filters (None: any)."""
    return (
        (status is None or run.status == status)
        and (function is None or run.function == function)
        and (pr is None or run.pr == pr)
    )


def clip(text: str | None) -> str | None:
    """Return a saved result cut to OUTPUT_SHOWN characters, saying how much was left out."""
    if text is None or len(text) <= OUTPUT_SHOWN:
        return text
    return text[:OUTPUT_SHOWN] + f"… (+{len(text) - OUTPUT_SHOWN} characters)"


def _step(entry: Mapping[str, Any], outputs: Mapping[str, str]) -> StepOut:
    step = str(entry.get("step", "?"))
    attempt = entry.get("attempt")
    end = entry.get("at")
    took = entry.get("duration_ms")
    took = float(took) if isinstance(took, int | float) else None
    end_ms = int(end) if isinstance(end, int | float) else None
    saved = outputs.get(step) if entry.get("status") == "ok" else None
    return StepOut(
        step=_INTERNAL_STEPS.get(step, step),
        status=str(entry.get("status", "?")),
        attempt=attempt + 1 if isinstance(attempt, int) else None,  # 1 is the first attempt
        start_ms=int(end_ms - took) if end_ms is not None and took is not None else end_ms,
        end_ms=end_ms,
        duration_ms=took,
        error=str(entry["error"]) if entry.get("error") else None,
        output=clip(saved),
        until_ms=_int(str(entry["until"])) if "until" in entry else None,
        retry_at_ms=_int(str(entry["retry_at"])) if "retry_at" in entry else None,
        event=str(entry["event"]) if entry.get("event") else None,
    )


def steps_out(log: list[str], outputs: Mapping[str, str]) -> list[StepOut]:
    """Return a run's timeline from its log entries (JSON texts) and saved step results."""
    entries = []
    for text in log:
        try:
            entry = json.loads(text)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(_step(entry, outputs))
    return entries


def waiting(run: RunOut, steps: list[StepOut], state: Mapping[str, str]) -> str | None:
    """Say what an unfinished run waits for: its next attempt, a sleep, an event."""
    if run.status not in ACTIVE or run.status == "running":
        return None
    last = steps[-1] if steps else None
    if run.status == "waiting":
        what = state.get("wait_event") or (last.step if last else "an event")
        return f"waits for {what}{_wait_match(state.get('wait_on'))}"
    if run.status == "sleeping":
        return f"sleeps ({last.step})" if last else "sleeps"
    if run.status == "retrying":
        return f"retries (attempt {(_int(state.get('attempt')) or 0) + 1})"
    return "waits for a worker" if run.status == "queued" else None


def _wait_match(wait_on: str | None) -> str:
    # The runtime keeps a wait's match as JSON [event, dotted path, typed value key ("s:…")].
    try:
        _, path, key = json.loads(wait_on or "")
    except (ValueError, TypeError):
        return ""
    if not path or not isinstance(key, str) or key == "*":
        return ""
    return f" where {path} = {key.partition(':')[2]}"


def stored_event(raw: str) -> tuple[Event, dict[str, str]] | None:
    """Parse a stored event record into the event and its delivery meta (None if unreadable)."""
    try:
        record = json.loads(raw)
        event = Event.model_validate(record["event"])
    except (ValueError, KeyError, TypeError):
        return None
    meta = record.get("meta") if isinstance(record.get("meta"), dict) else {}
    return event, {str(k): str(v) for k, v in meta.items()}


def pr_of_event(event: Event) -> str | None:
    """Return the PR of a GitHub payload, of a failed run's event, or of prbot's own events."""
    data: object = event.data
    if event.name == FUNCTION_FAILED:
        inner = event.data.get("event")
        data = inner.get("data") if isinstance(inner, dict) else None
    if not isinstance(data, dict):
        return None
    repo, number = data.get("repo"), data.get("number")
    if isinstance(repo, str) and "/" in repo and isinstance(number, int):
        return f"{repo}#{number}"
    return pr_key_of(data)


def pr_url(pr: str) -> str:
    """Return the GitHub page of `owner/repo#N`."""
    repo, _, number = pr.partition("#")
    return f"https://github.com/{repo}/pull/{number}"
