"""Planning: what storing an event means — its record and one run per matching function. No I/O."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from bot.runtime.events import FUNCTION_FAILED, Event
from bot.runtime.functions import Function, Registry, run_id_for
from bot.runtime.store import Enqueue, PlannedRun

Status = Literal["queued", "duplicate", "ignored"]
STATUS: dict[int, Status] = {0: "duplicate", 1: "queued", 2: "ignored"}


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
        runs = []
        for fn in self.registry.matching(event):
            run_id = run_id_for(event.id, fn.id)
            runs.append(PlannedRun(run_id, fn.id, fn.key_for(event, run_id)))
        return Enqueue(event.id, record(event, meta, raw_data), runs, not replay, replay)

    def failure_events(self, fn: Function, run_id: str, error: str, event: Event) -> list[Event]:
        """Return the `prbot/function.failed` event for a failed run (none for failure handlers)."""
        if event.name == FUNCTION_FAILED:
            return []  # a failing failure handler must not feed itself
        data = {"function_id": fn.id, "run_id": run_id, "error": error}
        data["event"] = event.model_dump(mode="json")  # type: ignore[assignment]
        return [Event(name=FUNCTION_FAILED, id=f"failed-{run_id}", data=data)]


def record(event: Event, meta: Mapping[str, str] | None, raw_data: str | None) -> str:
    """Return the stored record of an event: its envelope and the delivery meta, as JSON."""
    compact = (",", ":")
    tail = ',"meta":' + json.dumps(dict(meta or {}), separators=compact) + "}"
    if raw_data is None:
        return '{"event":' + json.dumps(event.model_dump(mode="json"), separators=compact) + tail
    head = json.dumps(event.model_dump(mode="json", exclude={"data"}), separators=compact)
    return '{"event":' + head[:-1] + ',"data":' + raw_data + "}" + tail
