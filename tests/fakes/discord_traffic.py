"""Traffic around the fake Discord's rules: rate-limit buckets, injected faults, the request log.

Rate limits: https://discord.com/developers/docs/topics/rate-limits (per-route buckets keyed by
route + top-level resource, 50 requests/s global, 10,000 invalid responses per 10 minutes).
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tests.fakes.discord_clock import FakeClock
from tests.fakes.fake_traffic import (
    CountingLog,
    FixedWindows,
    PathRule,
    RecordedRequest,
    SeededPlan,
)

# Statuses Discord counts towards the invalid-request (Cloudflare ban) limit.
INVALID_STATUSES = frozenset({401, 403, 429})
INVALID_WINDOW_S = 600.0


@dataclass(frozen=True)
class BucketState:
    """One route bucket after a request: what the X-RateLimit-* headers report."""

    bucket: str
    limit: int
    remaining: int
    reset_at: float
    reset_after_s: float
    exceeded: bool


class RateLimiter:
    """Fixed-window buckets per (route, major parameter) plus a sliding global per-second limit."""

    def __init__(
        self,
        clock: FakeClock,
        *,
        route_limit: int = 5,
        route_window_s: float = 1.0,
        global_limit: int = 50,
        overrides: Mapping[str, tuple[int, float]] | None = None,
    ) -> None:
        self.clock = clock
        self.route_limit = route_limit
        self.route_window_s = route_window_s
        self.global_limit = global_limit
        self.overrides = dict(overrides or {})
        self._windows = FixedWindows()
        self._global: deque[float] = deque()

    def hit_global(self) -> float | None:
        """Count one request globally; return the retry delay if over the limit."""
        now = self.clock.now()
        while self._global and now - self._global[0] >= 1.0:
            self._global.popleft()
        if len(self._global) >= self.global_limit:
            return self._global[0] + 1.0 - now
        self._global.append(now)
        return None

    def hit(self, route: str, major: str) -> BucketState:
        """Count one request against the bucket of ``route`` (e.g. ``POST /channels/{id}``)."""
        limit, window_s = self.overrides.get(route, (self.route_limit, self.route_window_s))
        now = self.clock.now()
        window = self._windows.hit(f"{route}:{major}", limit, window_s, now)
        reset_at = window.start + window_s
        return BucketState(
            bucket=bucket_hash(route),
            limit=limit,
            remaining=limit - window.used,
            reset_at=reset_at,
            reset_after_s=max(reset_at - now, 0.0),
            exceeded=window.exceeded,
        )


def bucket_hash(route: str) -> str:
    """Return a stable opaque bucket id for a route, like Discord's X-RateLimit-Bucket."""
    return hashlib.sha1(route.encode()).hexdigest()[:16]


@dataclass
class FaultRule(PathRule):
    """Fail the next ``times`` requests matching ``method`` and ``path`` (a glob) with ``status``.

    ``apply=True`` runs the request first and fails after, like a Discord 5xx that still wrote.
    ``cloudflare=True`` makes a 429 without ``Via``: a ban. ``drop=True`` closes the connection
    instead of answering (``status`` is then unused); with ``apply=True`` that is a lost
    response: the request was carried out, the client never knows.
    """

    status: int
    times: int = 1
    apply: bool = False
    retry_after_s: float = 0.05
    scope: str = "user"
    cloudflare: bool = False
    drop: bool = False


@dataclass(frozen=True)
class Fault:
    """One fault the plan decided to inject into one request."""

    status: int
    apply: bool
    retry_after_s: float
    source: str
    scope: str = "user"
    cloudflare: bool = False
    drop: bool = False


@dataclass
class FaultPlan(SeededPlan[FaultRule]):
    """What goes wrong and how often: seeded random 5xx/429, extra latency, exact failures.

    ``p_lost`` is the share of writes (any method but GET) whose response is lost: Discord
    carries the request out, then the client gets a 502 from a proxy or a dropped connection
    (``lost_drop_share`` of them), as behind a load balancer that fails after the API answered.
    """

    knobs = (
        "p5xx",
        "p429",
        "retry_after_s",
        "latency_ms",
        "p_apply_then_fail",
        "p_lost",
        "lost_drop_share",
    )

    p5xx: float = 0.0
    p429: float = 0.0
    retry_after_s: float = 0.05
    p_apply_then_fail: float = 0.0
    p_lost: float = 0.0
    lost_drop_share: float = 0.5

    def fail_next(
        self,
        method: str,
        path: str,
        status: int,
        *,
        times: int = 1,
        apply: bool = False,
        retry_after_s: float = 0.05,
        cloudflare: bool = False,
        drop: bool = False,
    ) -> FaultRule:
        """Queue an exact failure for the next matching requests."""
        rule = FaultRule(
            method, path, status, times, apply, retry_after_s, cloudflare=cloudflare, drop=drop
        )
        self.rules.append(rule)
        return rule

    def lose_next(self, method: str, path: str, *, times: int = 1, drop: bool = False) -> FaultRule:
        """Carry out the next matching requests, then lose their answers (502, or a drop)."""
        return self.fail_next(method, path, 502, times=times, apply=True, drop=drop)

    def draw(self, method: str, path: str, route: str) -> Fault | None:
        """Decide whether this request fails: queued rules first, then the seeded dice."""
        rule = self.take_rule(method, path, route)
        if rule is not None:
            return Fault(
                rule.status,
                rule.apply,
                rule.retry_after_s,
                "rule",
                rule.scope,
                rule.cloudflare,
                rule.drop,
            )
        roll = self._rng.random()
        if roll < self.p429:
            return Fault(429, False, self.retry_after_s, "random")
        if roll < self.p429 + self.p5xx:
            status = self._rng.choice((500, 502, 503))
            apply = method != "GET" and self._rng.random() < self.p_apply_then_fail
            return Fault(status, apply, 0.0, "random")
        return self._draw_lost(method)

    def _draw_lost(self, method: str) -> Fault | None:
        # Draws only when losses are asked for, so older seeds keep their sequences.
        if method == "GET" or self.p_lost <= 0 or self._rng.random() >= self.p_lost:
            return None
        drop = self._rng.random() < self.lost_drop_share
        return Fault(502, True, 0.0, "lost", drop=drop)

    def rule_from_json(self, data: Mapping[str, Any]) -> FaultRule:
        """Return the rule a JSON object describes (``POST /_fake/faults``)."""
        return FaultRule(**data)


@dataclass(frozen=True)
class RequestRecord(RecordedRequest):
    """One request the fake answered."""

    fault: str | None = None
    scope: str | None = None
    body: Any = None

    @property
    def invalid(self) -> bool:
        """Whether Discord counts this response towards the Cloudflare ban limit."""
        return self.status in INVALID_STATUSES and self.scope != "shared"


class RequestLog(CountingLog[RequestRecord]):
    """Every request by (method, route template, status), plus the most recent records."""

    def count(
        self, method: str | None = None, route: str | None = None, status: int | None = None
    ) -> int:
        """Count requests matching every filter given (``route`` is a template)."""
        return self.count_where(method, route, status)

    def invalid_recently(self, now: float, window_s: float = INVALID_WINDOW_S) -> int:
        """Count recent 401/403/429 responses (the ban limit is 10,000 per 10 minutes)."""
        return sum(1 for r in self.records if r.invalid and now - r.at < window_s)
