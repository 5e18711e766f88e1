"""Every Redis key prbot uses, built from one prefix (and nowhere else)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    """Key names under `prefix`; Lua scripts get the `*_prefix` strings to build per-item keys."""

    prefix: str = "prbot"

    def _k(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    # Global structures.
    @property
    def sched(self) -> str:
        """ZSET concurrency key -> ms it is next due (a leased key: its lease expiry)."""
        return self._k("sched")

    @property
    def lease(self) -> str:
        """HASH concurrency key -> lease token of the worker holding it."""
        return self._k("lease")

    @property
    def runs(self) -> str:
        """ZSET run id -> created ms, newest last: the index `prbot runs` reads."""
        return self._k("runs")

    @property
    def runs_failed(self) -> str:
        """ZSET of failed run ids -> failed ms."""
        return self._k("runs", "failed")

    @property
    def events(self) -> str:
        """ZSET event id -> received ms: the recorded events and deliveries."""
        return self._k("events")

    @property
    def wake(self) -> str:
        """Pub/sub channel told when new work is due."""
        return self._k("wake")

    # Per-item keys.
    def dedup(self, event_id: str) -> str:
        """SET NX marker of an event id seen within the dedup window."""
        return self.dedup_prefix + event_id

    def event(self, event_id: str) -> str:
        """String: the stored event record (envelope + delivery meta) as JSON."""
        return self.event_prefix + event_id

    def run(self, run_id: str) -> str:
        """HASH of a run's state."""
        return self.run_prefix + run_id

    def steps(self, run_id: str) -> str:
        """HASH step id -> saved JSON result."""
        return self.run_prefix + run_id + self.steps_suffix

    def log(self, run_id: str) -> str:
        """LIST of timeline entries (JSON) of a run."""
        return self.run_prefix + run_id + self.log_suffix

    def queue(self, concurrency_key: str) -> str:
        """LIST of run ids sharing a concurrency key, in the order their events arrived."""
        return self.queue_prefix + concurrency_key

    def data(self, *parts: str) -> str:
        """A key for application data (for example the PR -> thread mapping)."""
        return self._k("data", *parts)

    @property
    def event_prefix(self) -> str:
        return self._k("event", "")

    @property
    def run_prefix(self) -> str:
        return self._k("run", "")

    @property
    def dedup_prefix(self) -> str:
        return self._k("dedup", "")

    @property
    def queue_prefix(self) -> str:
        return self._k("q", "")

    steps_suffix = ":steps"
    log_suffix = ":log"
