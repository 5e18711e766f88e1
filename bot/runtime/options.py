"""Tuning of the runtime; the defaults suit production."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.runtime.policy import Backoff


@dataclass(frozen=True)
class RuntimeOptions:
    """Lease length, heartbeat, retry backoff, how often a run may be abandoned, idle polling.

    A worker renews its leases every `heartbeat_ms` (default a quarter of the lease), so a step
    may run as long as it needs; a killed worker's runs go to another worker once its leases
    run out, within `lease_ms` of the kill.
    """

    lease_ms: int = 4_000
    backoff: Backoff = field(default_factory=Backoff)
    max_abandoned: int = 5
    idle_poll_ms: int = 1_000
    heartbeat_ms: int | None = None

    @property
    def heartbeat_every_ms(self) -> int:
        """Return how often leases are renewed."""
        return self.heartbeat_ms or max(1, self.lease_ms // 4)
