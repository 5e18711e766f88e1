"""Every Redis key prbot uses, built from one prefix (and nowhere else), and how long each lives.

Nothing is kept for good: each key is bounded by a count, a time or the life of a run. "Live"
runs are queued, running, retrying, sleeping or waiting; `DELIVERY_MAX` is `events_max`.

  events                    ZSET    at most DELIVERY_MAX ids, DELIVERY_RETENTION_DAYS (each enqueue
                                    trims it)
  event:<id>, :holds        String  while indexed; past that only while a live run (or a wait it
                            HASH    is offered to, or a pending debounce) holds it; then deleted
  dedup:<id>                String  24 h TTL (~100 B): a redelivery within a day stays a duplicate
  runs                      ZSET    the runs of the indexed events and live runs; runs_max
  runs:failed               ZSET    30 days, at most min(runs_max, DELIVERY_MAX)
  run:<id>, :steps, :log    HASH…   live: as long as the run; ended: deleted with their event
                                    (failed ones with their failed entry), TTL 7 d / failed 30 d
  run:<id>:cand, :claims    ZSET,   the run's wait / the run: deleted when it ends
                            HASH
  q:<key>, sched, lease     …       live runs: a key leaves when its queue empties
  timers                    ZSET    parked live runs, pending debounces and throttles
  listen:<name>, on:<…>     HASH,   live runs that wait or may be cancelled
                            SET
  debounce:<key>            HASH    a pending debounce (until its timer fires)
  throttle:<key>, :log      LIST,   throttled live runs; the log: the throttle period (TTL)
                            ZSET
  recent:<name>             ZSET    min(1000, DELIVERY_MAX) ids per event name, 1 day (TTL)
  idem:<fn|key>             String  1 day TTL
  cron:<fn|expr|tz>         String  TTL: 30 days past its next tick
  reruns:<run>              String  TTL: as long as a failed run is kept (30 days)
  cancelled                 LIST    cancelled runs whose event is not sent yet (each claim sends)
  inbox                     LIST    accepted deliveries not planned yet, in order (each claim
                                    plans them); their records are held until then
  data:…                            the product's keys: see bot/prs/mapping.py
"""

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
    def inbox(self) -> str:
        """LIST of accepted event ids whose runs are still to be planned, oldest first."""
        return self._k("inbox")

    @property
    def wake(self) -> str:
        """Pub/sub channel told when new work is due."""
        return self._k("wake")

    # Per-item keys.
    def dedup(self, event_id: str) -> str:
        """SET NX marker of an event id seen within the dedup window."""
        return self.dedup_prefix + event_id

    def duplicates(self, event_id: str) -> str:
        """Counter of repeats of an event id answered `duplicate`; lives as long as its marker."""
        return self.dedup_prefix + event_id + self.duplicates_suffix

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

    def claims(self, run_id: str) -> str:
        """HASH name -> token: locks that live in a run and die with it (`AppData.lock`)."""
        return self.run_prefix + run_id + self.claims_suffix

    def holds(self, event_id: str) -> str:
        """HASH of what keeps an event's record past its index entry (lua.py `hold`)."""
        return self.event_prefix + event_id + self.holds_suffix

    def queue(self, concurrency_key: str) -> str:
        """LIST of run ids sharing a concurrency key, in the order their events arrived."""
        return self.queue_prefix + concurrency_key

    def cron(self, function_id: str, expr: str, tz: str) -> str:
        """String: the last tick (ms) of a function's schedule that made a run."""
        return self._k("cron", f"{function_id}|{expr}|{tz}")

    def reruns(self, run_id: str) -> str:
        """Counter of the reruns made of the run `run_id` (and of its reruns); expires."""
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
    claims_suffix = ":claims"
    holds_suffix = ":holds"
    duplicates_suffix = ":dups"
