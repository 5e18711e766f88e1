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
    def timers(self) -> str:
        """ZSET of parked work -> ms due: `r:<run>` wake-ups, `d:<key>` debounces, `t:<key>`."""
        return self._k("timers")

    @property
    def outbox(self) -> str:
        """LIST of cancelled run ids whose `prbot/function.cancelled` event is still to be sent."""
        return self._k("cancelled")

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

    def cron(self, function_id: str, expr: str, tz: str) -> str:
        """String: the last tick (ms) of a function's schedule that made a run."""
        return self._k("cron", f"{function_id}|{expr}|{tz}")

    def reruns(self, run_id: str) -> str:
        """Counter of the reruns made of the run `run_id` (and of its reruns)."""
        return self._k("reruns", run_id)

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

    @property
    def listen_prefix(self) -> str:
        """+ event name: HASH dotted path -> how many runs listen for that name on that path."""
        return self._k("listen", "")

    @property
    def on_prefix(self) -> str:
        """+ `name|path|value`: SET of `w:<run>` (waiting) and `c:<run>` (cancel on) members."""
        return self._k("on", "")

    @property
    def recent_prefix(self) -> str:
        """+ event name: ZSET event id -> received ms, the window `lookback_s` looks into."""
        return self._k("recent", "")

    @property
    def idempotency_prefix(self) -> str:
        """+ `function|key`: String, ms the key's run was made (kept a day)."""
        return self._k("idem", "")

    @property
    def debounce_prefix(self) -> str:
        """+ `function|key`: HASH first ms, last event id and the run it will make."""
        return self._k("debounce", "")

    @property
    def throttle_prefix(self) -> str:
        """+ `function|key`: LIST of runs waiting their turn; `…:log` ZSET of recent starts."""
        return self._k("throttle", "")

    steps_suffix = ":steps"
    log_suffix = ":log"
    candidates_suffix = ":cand"  # ZSET event id -> received ms offered to a waiting run
