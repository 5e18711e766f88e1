"""The event envelope every trigger, run and replay works with."""

from __future__ import annotations

import time
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def now_ms() -> int:
    """Return wall-clock time in whole milliseconds."""
    return time.time_ns() // 1_000_000


def new_event_id() -> str:
    """Return a fresh random event id."""
    return uuid.uuid4().hex


class Event(BaseModel):
    """An event: `name` triggers functions, `id` is the idempotency key, `data` the payload."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    data: dict[str, Any] = Field(default_factory=dict)
    id: str = Field(default_factory=new_event_id, min_length=1, max_length=200)
    ts: int = Field(default_factory=now_ms)
    v: str | None = None

    def id_is_explicit(self) -> bool:
        """Tell whether the caller chose the id (rather than getting a random one)."""
        return "id" in self.model_fields_set


FUNCTION_FAILED = "prbot/function.failed"
FUNCTION_CANCELLED = "prbot/function.cancelled"
CRON_TICK = "prbot/cron.tick"
