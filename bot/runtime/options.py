"""Tuning of the runtime; the defaults suit production."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.runtime.policy import Backoff


@dataclass(frozen=True)
class RuntimeOptions:
    """Lease length, retry backoff, how often a run may be abandoned, idle polling."""

    lease_ms: int = 30_000
    backoff: Backoff = field(default_factory=Backoff)
    max_abandoned: int = 5
    idle_poll_ms: int = 1_000
