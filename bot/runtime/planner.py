"""Planning: what storing an event means — its record and one run per matching function. No I/O."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import orjson

from bot.runtime.events import CRON_TICK, FUNCTION_CANCELLED, FUNCTION_FAILED, Event
from bot.runtime.flow import Cron, key_of, match_key, value_at
from bot.runtime.functions import Function, Registry, run_id_for
from bot.runtime.plans import Debounced, Enqueue, PlannedRun, Throttled

Status = Literal["queued", "duplicate", "ignored"]
STATUS: dict[int, Status] = {0: "duplicate", 1: "queued", 2: "ignored", 3: "ignored"}


@dataclass(frozen=True)
class SendResult:
    """What became of one sent event: queued (runs made), duplicate, or ignored (no function)."""

    event_id: str
    status: Status
    run_ids: tuple[str, ...]


class Planner:
    """Turns events into planned runs of the registered functions."""

    def __init__(self, functions: Iterable[Function]) -> None:
        self.registry = Registry(functions)

    def plan(
        self,
        event: Event,
        meta: Mapping[str, str] | None = None,
        replay: bool = False,
        raw_data: str | None = None,
    ) -> Enqueue:
        """Return what storing `event` means: its record and one run per matching function.

        `raw_data`, when given, is the JSON text `event.data` was parsed from: it is stored as it
        is rather than serialised again (a webhook payload is tens of kilobytes).
        """
        runs = [
            self.run(fn, event, run_id_for(event.id, fn.id)) for fn in self.registry.matching(event)
        ]
        return Enqueue(
            event.id, record(event, meta, raw_data), runs, not replay, replay, event.name
        )

    def plan_accepted(self, event: Event) -> tuple[Enqueue, list[Event]]:
        """Plan an accepted delivery (its record is stored): the runs of the functions it
        triggers, and a `prbot/function.failed` event for each function whose trigger or keys
        raised on it (the others are planned all the same)."""
        runs, failures = [], []
        for fn in self.registry:
            run_id = run_id_for(event.id, fn.id)
            try:
                if fn.matches(event):
                    runs.append(self.run(fn, event, run_id))
            except Exception as exc:  # a function's own code: report it, plan the rest
                error = f"could not plan the run of {event.name} {event.id}: {exc!r}"
                failures += self.failure_events(fn, run_id, error, event)
        return Enqueue(event.id, "", runs, False, False, event.name, inbox=True), failures

    def run(self, fn: Function, event: Event, run_id: str, flow: bool = True) -> PlannedRun:
        """Return the run of `fn` for `event`; `flow=False` skips debounce and idempotency."""
        cancels = []
        for c in fn.cancel_on:
            key = "*" if c.match is None else match_key(value_at(event, c.match))
            if key is not None:
                cancels.append((c.event, c.match or "", key))
        throttle = debounce = idem = None
        if fn.throttle:
            t = fn.throttle
            key = f"{fn.id}|{key_of(t.key, event) or ''}"
            throttle = Throttled(key, t.limit, int(t.period_s * 1000))
        if fn.debounce and flow:
            d = fn.debounce
            max_ms = None if d.max_wait_s is None else int(d.max_wait_s * 1000)
            debounce = Debounced(
                f"{fn.id}|{key_of(d.key, event) or ''}", int(d.period_s * 1000), max_ms
            )
        if fn.idempotency is not None and flow:
            key = key_of(fn.idempotency, event)
            idem = None if key is None else f"{fn.id}|{key}"
        ck = fn.key_for(event, run_id)
        return PlannedRun(run_id, fn.id, ck, tuple(cancels), throttle, debounce, idem)

    def failure_events(self, fn: Function, run_id: str, error: str, event: Event) -> list[Event]:
        """Return the `prbot/function.failed` event for a failed run (none for failure handlers)."""
        if event.name == FUNCTION_FAILED:
            return []  # a failing failure handler must not feed itself
        data = {"function_id": fn.id, "run_id": run_id, "error": error}
        data["event"] = event.model_dump(mode="json")  # type: ignore[assignment]
        return [Event(name=FUNCTION_FAILED, id=f"failed-{run_id}", data=data)]

    def cancelled_event(
        self, function_id: str, run_id: str, reason: str, event: Event | None
    ) -> Event | None:
        """Return the `prbot/function.cancelled` event of a run (none for its own handlers)."""
        if event is not None and event.name == FUNCTION_CANCELLED:
            return None
        data: dict[str, object] = {"function_id": function_id, "run_id": run_id, "reason": reason}
        data["event"] = event.model_dump(mode="json") if event else None
        return Event(name=FUNCTION_CANCELLED, id=f"cancelled-{run_id}", data=data)

    def cron_tick(self, fn: Function, cron: Cron, tick_ms: int) -> Enqueue:
        """Return the `prbot/cron.tick` event of one tick, making a run of `fn` alone."""
        tick = datetime.fromtimestamp(tick_ms / 1000, UTC).isoformat().replace("+00:00", "Z")
        data = {"function_id": fn.id, "cron": cron.expr, "tz": cron.tz, "tick_ms": tick_ms}
        data["tick"] = tick
        event = Event(name=CRON_TICK, id=f"cron-{fn.id}-{tick_ms}", data=data, ts=tick_ms)
        run = self.run(fn, event, run_id_for(event.id, fn.id))
        return Enqueue(event.id, record(event, None, None), [run], True, False, event.name)


def parse_record(raw: str) -> Event | None:
    """Return the event of a stored record, None when it does not parse."""
    try:
        return Event.model_validate(json.loads(raw)["event"])
    except (ValueError, KeyError, TypeError):
        return None


def accepted_record(
    name: str, event_id: str, ts: int, raw_data: bytes | str, meta: Mapping[str, str]
) -> bytes:
    """Return the record of a delivery accepted as it came: `raw_data` is its payload's JSON.

    The same record `record` makes, built without decoding the payload (it is tens of KB).
    """
    raw = raw_data.encode() if isinstance(raw_data, str) else raw_data
    head = orjson.dumps({"name": name, "id": event_id, "ts": ts, "v": None})
    return b'{"event":' + head[:-1] + b',"data":' + raw + b'},"meta":' + orjson.dumps(meta) + b"}"


def record(event: Event, meta: Mapping[str, str] | None, raw_data: str | None) -> str:
    """Return the stored record of an event: its envelope and the delivery meta, as JSON."""
    compact = (",", ":")
    tail = ',"meta":' + json.dumps(dict(meta or {}), separators=compact) + "}"
    if raw_data is None:
        return '{"event":' + json.dumps(event.model_dump(mode="json"), separators=compact) + tail
    head = json.dumps(event.model_dump(mode="json", exclude={"data"}), separators=compact)
    return '{"event":' + head[:-1] + ',"data":' + raw_data + "}" + tail
