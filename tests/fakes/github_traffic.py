"""Traffic around the fake GitHub's rules: primary and secondary rate limits, faults, the log.

Rate limits: https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
(5,000 requests an hour per user or installation, 60 without credentials; at most 80
content-creating requests a minute and 500 an hour, else a secondary limit with ``retry-after``).
"""

from __future__ import annotations

import fnmatch
import math
import random
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from tests.fakes.discord_clock import FakeClock
from tests.fakes.github_rules import JSONObject

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
FaultKind = Literal["error", "lost", "drop", "stall", "primary", "secondary"]


@dataclass(frozen=True)
class Quota:
    """A primary-limit bucket after a request: what the ``x-ratelimit-*`` headers report."""

    limit: int
    remaining: int
    used: int
    reset_at: int
    exceeded: bool
    resource: str = "core"

    def headers(self) -> dict[str, str]:
        """Return the headers GitHub sends on every answer."""
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-reset": str(self.reset_at),
            "x-ratelimit-resource": self.resource,
        }


class RateLimiter:
    """Hourly primary quotas per caller and sliding secondary limits on content creation."""

    def __init__(
        self,
        clock: FakeClock,
        *,
        limits: Mapping[str, int] | None = None,
        window_s: float = 3600.0,
        writes_per_minute: int = 80,
        writes_per_hour: int = 500,
        primary_status: int = 403,
    ) -> None:
        self.clock = clock
        # Per kind of caller (the part of a bucket key before ":").
        self.limits = {"user": 5000, "installation": 5000, "app": 5000, "ip": 60, **(limits or {})}
        self.window_s = window_s
        self.writes_per_minute = writes_per_minute
        self.writes_per_hour = writes_per_hour
        self.primary_status = primary_status
        self._windows: dict[str, tuple[float, int]] = {}
        self._writes: dict[str, deque[float]] = {}

    def _window(self, key: str) -> tuple[float, int]:
        now = self.clock.now()
        start, used = self._windows.get(key, (now, 0))
        if now >= start + self.window_s:
            start, used = now, 0
        return start, used

    def _quota(self, key: str, start: float, used: int, exceeded: bool) -> Quota:
        limit = self.limits[key.partition(":")[0]]
        reset_at = math.ceil(start + self.window_s)
        return Quota(limit, max(limit - used, 0), min(used, limit), reset_at, exceeded)

    def hit(self, key: str) -> Quota:
        """Count one request in ``key``'s bucket; ``exceeded`` when it was already used up."""
        start, used = self._window(key)
        limit = self.limits[key.partition(":")[0]]
        exceeded = used >= limit
        if not exceeded:
            used += 1
        self._windows[key] = (start, used)
        return self._quota(key, start, used, exceeded)

    def peek(self, key: str) -> Quota:
        """Return ``key``'s bucket without counting."""
        start, used = self._window(key)
        return self._quota(key, start, used, False)

    def exhaust(self, key: str) -> None:
        """Use up ``key``'s quota for the rest of its window (e.g. ``installation:1042``)."""
        start, _ = self._window(key)
        self._windows[key] = (start, self.limits[key.partition(":")[0]])

    def hit_secondary(self, key: str, method: str) -> int | None:
        """Count a content-creating request; return ``retry-after`` seconds when over a limit."""
        if method not in WRITE_METHODS:
            return None
        now = self.clock.now()
        writes = self._writes.setdefault(key, deque())
        while writes and now - writes[0] >= 3600.0:
            writes.popleft()
        last_minute = [t for t in writes if now - t < 60.0]
        if len(last_minute) >= self.writes_per_minute:
            return max(1, math.ceil(last_minute[0] + 60.0 - now))
        if len(writes) >= self.writes_per_hour:
            return max(1, math.ceil(writes[0] + 3600.0 - now))
        writes.append(now)
        return None


@dataclass
class FaultRule:
    """Fail the next ``times`` requests matching ``method`` and ``path`` (a glob).

    ``path`` matches the concrete path or the route template. Kinds: ``error`` answers
    ``status`` without doing anything; ``lost`` does the work, then answers ``status`` (a
    response lost behind a proxy); ``drop`` does the work, then closes the connection with no
    answer; ``stall`` does the work, then holds the answer ``retry_after_s`` wall seconds (for
    a client killed while it waits); ``primary``/``secondary`` answer as the exhausted rate
    limits do.
    """

    method: str
    path: str
    kind: FaultKind = "error"
    status: int = 502
    times: int = 1
    retry_after_s: int = 60

    def matches(self, method: str, path: str, route: str) -> bool:
        """Whether this rule applies to a request."""
        if self.method not in ("*", method):
            return False
        return fnmatch.fnmatchcase(path, self.path) or fnmatch.fnmatchcase(route, self.path)


@dataclass(frozen=True)
class Fault:
    """One fault the plan decided to inject into one request."""

    kind: FaultKind
    status: int
    retry_after_s: int
    source: str

    @property
    def applies(self) -> bool:
        """Whether the request is carried out before the failure."""
        return self.kind in ("lost", "drop", "stall")


@dataclass
class FaultPlan:
    """What goes wrong and how often: seeded random 5xx and lost answers, exact failures."""

    p5xx: float = 0.0
    p_lost: float = 0.0
    p_drop: float = 0.0
    latency_ms: float = 0.0
    seed: int = 0
    rules: list[FaultRule] = field(default_factory=list)
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def fail_next(
        self,
        method: str,
        path: str,
        kind: FaultKind = "error",
        *,
        status: int | None = None,
        times: int = 1,
        retry_after_s: int = 60,
    ) -> FaultRule:
        """Queue an exact failure for the next matching requests."""
        default = {"error": 502, "lost": 502, "drop": 0, "stall": 0, "primary": 403,
                   "secondary": 403}[kind]  # fmt: skip
        status = default if status is None else status
        rule = FaultRule(method, path, kind, status, times, retry_after_s)
        self.rules.append(rule)
        return rule

    def draw(self, method: str, path: str, route: str) -> Fault | None:
        """Decide whether this request fails: queued rules first, then the seeded dice."""
        for rule in self.rules:
            if rule.times > 0 and rule.matches(method, path, route):
                rule.times -= 1
                self.rules = [r for r in self.rules if r.times > 0]
                return Fault(rule.kind, rule.status, rule.retry_after_s, "rule")
        roll = self._rng.random()
        if roll < self.p5xx:
            return Fault("error", self._rng.choice((500, 502, 503)), 0, "random")
        if roll < self.p5xx + self.p_lost:
            return Fault("lost", self._rng.choice((502, 504)), 0, "random")
        if roll < self.p5xx + self.p_lost + self.p_drop:
            return Fault("drop", 0, 0, "random")
        return None

    def update(self, data: Mapping[str, Any]) -> None:
        """Change the plan from a JSON object (``POST /_fake/faults``)."""
        for name in ("p5xx", "p_lost", "p_drop", "latency_ms"):
            if name in data:
                setattr(self, name, float(data[name]))
        if "seed" in data:
            self.seed = int(data["seed"])
            self._rng = random.Random(self.seed)
        if data.get("clear"):
            self.rules.clear()
        for rule in data.get("fail_next", []):
            self.rules.append(FaultRule(**rule))

    def to_json(self) -> JSONObject:
        """Return the plan as JSON."""
        data: JSONObject = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        data["rules"] = [asdict(rule) for rule in self.rules]
        return data


@dataclass(frozen=True)
class RequestRecord:
    """One request the fake answered (status 0: the connection was dropped)."""

    method: str
    route: str
    path: str
    status: int
    at: float
    auth: str
    login: str | None = None
    fault: str | None = None
    body: Any = None


class RequestLog:
    """Every request by (method, route template, status, auth kind), plus the recent records."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self.records: deque[RequestRecord] = deque(maxlen=maxlen)
        self.counts: Counter[tuple[str, str, int, str]] = Counter()

    def add(self, record: RequestRecord) -> None:
        """Log one request."""
        self.records.append(record)
        self.counts[(record.method, record.route, record.status, record.auth)] += 1

    def count(
        self,
        method: str | None = None,
        route: str | None = None,
        status: int | None = None,
        auth: str | None = None,
    ) -> int:
        """Count requests matching every filter given (``route`` is a template)."""
        return sum(
            n
            for (m, r, s, a), n in self.counts.items()
            if method in (None, m)
            and route in (None, r)
            and status in (None, s)
            and auth in (None, a)
        )

    def statuses(self, method: str, route: str) -> list[int]:
        """Return the statuses of matching recent requests, in order."""
        return [r.status for r in self.records if r.method == method and r.route == route]

    def clear(self) -> None:
        """Forget every request."""
        self.records.clear()
        self.counts.clear()

    def to_json(self) -> JSONObject:
        """Return the counters as JSON."""
        return {
            "total": sum(self.counts.values()),
            "by_route": [
                {"method": m, "route": r, "status": s, "auth": a, "count": n}
                for (m, r, s, a), n in sorted(self.counts.items())
            ],
        }
