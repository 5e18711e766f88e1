"""Traffic around the fake GitHub's rules: primary and secondary rate limits, faults, the log.

Rate limits: https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
(5,000 requests an hour per user or installation, 60 without credentials; at most 80
content-creating requests a minute and 500 an hour, else a secondary limit with ``retry-after``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from tests.fakes.discord_clock import FakeClock
from tests.fakes.fake_traffic import (
    CountingLog,
    FixedWindows,
    PathRule,
    RecordedRequest,
    SeededPlan,
    Window,
)

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
        self._windows = FixedWindows()
        self._writes: dict[str, deque[float]] = {}

    def _limit(self, key: str) -> int:
        return self.limits[key.partition(":")[0]]

    def _quota(self, key: str, window: Window) -> Quota:
        limit = self._limit(key)
        reset_at = math.ceil(window.start + self.window_s)
        used = window.used
        return Quota(limit, max(limit - used, 0), min(used, limit), reset_at, window.exceeded)

    def hit(self, key: str) -> Quota:
        """Count one request in ``key``'s bucket; ``exceeded`` when it was already used up."""
        window = self._windows.hit(key, self._limit(key), self.window_s, self.clock.now())
        return self._quota(key, window)

    def peek(self, key: str) -> Quota:
        """Return ``key``'s bucket without counting."""
        return self._quota(key, self._windows.current(key, self.window_s, self.clock.now()))

    def exhaust(self, key: str) -> None:
        """Use up ``key``'s quota for the rest of its window (e.g. ``installation:1042``)."""
        self._windows.fill(key, self._limit(key), self.window_s, self.clock.now())

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
class FaultRule(PathRule):
    """Fail the next ``times`` requests matching ``method`` and ``path`` (a glob).

    Kinds: ``error`` answers
    ``status`` without doing anything; ``lost`` does the work, then answers ``status`` (a
    response lost behind a proxy); ``drop`` does the work, then closes the connection with no
    answer; ``stall`` does the work, then holds the answer ``retry_after_s`` wall seconds (for
    a client killed while it waits); ``primary``/``secondary`` answer as the exhausted rate
    limits do.
    """

    kind: FaultKind = "error"
    status: int = 502
    times: int = 1
    retry_after_s: int = 60


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
class FaultPlan(SeededPlan[FaultRule]):
    """What goes wrong and how often: seeded random 5xx and lost answers, exact failures."""

    knobs = ("p5xx", "p_lost", "p_drop", "latency_ms")

    p5xx: float = 0.0
    p_lost: float = 0.0
    p_drop: float = 0.0

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
        rule = self.take_rule(method, path, route)
        if rule is not None:
            return Fault(rule.kind, rule.status, rule.retry_after_s, "rule")
        roll = self._rng.random()
        if roll < self.p5xx:
            return Fault("error", self._rng.choice((500, 502, 503)), 0, "random")
        if roll < self.p5xx + self.p_lost:
            return Fault("lost", self._rng.choice((502, 504)), 0, "random")
        if roll < self.p5xx + self.p_lost + self.p_drop:
            return Fault("drop", 0, 0, "random")
        return None

    def rule_from_json(self, data: Mapping[str, Any]) -> FaultRule:
        """Return the rule a JSON object describes (``POST /_fake/faults``)."""
        return FaultRule(**data)


@dataclass(frozen=True)
class RequestRecord(RecordedRequest):
    """One request the fake answered (status 0: the connection was dropped)."""

    auth: str
    login: str | None = None
    fault: str | None = None
    body: Any = None


class RequestLog(CountingLog[RequestRecord]):
    """Every request by (method, route template, status, auth kind), plus the recent records."""

    key_fields = ("method", "route", "status", "auth")

    def count(
        self,
        method: str | None = None,
        route: str | None = None,
        status: int | None = None,
        auth: str | None = None,
    ) -> int:
        """Count requests matching every filter given (``route`` is a template)."""
        return self.count_where(method, route, status, auth)
