"""Bookkeeping the fake REST servers share around their own rules: faults, request log, windows.

Each fake keeps its own kinds of fault and its own rate limits (``discord_traffic``,
``github_traffic``); what is the same lives here: exact fault rules matched by method and path
glob and used up one request at a time, a seeded plan changed from JSON, counters of requests by
a key of their fields, and fixed-window counters.
"""

from __future__ import annotations

import fnmatch
import random
from abc import ABC, abstractmethod
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import Field, asdict, dataclass, field, fields
from typing import Any, ClassVar, Generic, NamedTuple, Protocol, TypeVar

JSONObject = dict[str, Any]


@dataclass
class PathRule:
    """A rule for the requests matching ``method`` (or ``*``) and ``path``.

    ``path`` is a glob matched against the concrete API path (``/channels/123/messages``) or the
    route template (``/channels/{channel_id}/messages``).
    """

    method: str
    path: str

    def matches(self, method: str, path: str, route: str) -> bool:
        """Whether this rule applies to a request."""
        if self.method not in ("*", method):
            return False
        return fnmatch.fnmatchcase(path, self.path) or fnmatch.fnmatchcase(route, self.path)


class CountedRule(Protocol):
    """A rule (a dataclass) good for ``times`` more matching requests."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]
    times: int

    def matches(self, method: str, path: str, route: str) -> bool:
        """Whether this rule applies to a request."""


RuleT = TypeVar("RuleT", bound=CountedRule)


@dataclass
class SeededPlan(ABC, Generic[RuleT]):
    """Exact rules first, then seeded dice: what goes wrong, changeable from JSON.

    ``knobs`` names the float fields ``POST /_fake/faults`` may set.
    """

    knobs: ClassVar[tuple[str, ...]] = ("latency_ms",)

    latency_ms: float = field(default=0.0, kw_only=True)
    seed: int = field(default=0, kw_only=True)
    rules: list[RuleT] = field(default_factory=list, kw_only=True)
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    @abstractmethod
    def rule_from_json(self, data: Mapping[str, Any]) -> RuleT:
        """Return the rule a JSON object describes."""

    def take_rule(self, method: str, path: str, route: str) -> RuleT | None:
        """Use up one request of the first queued rule matching this request, if any."""
        for rule in self.rules:
            if rule.times > 0 and rule.matches(method, path, route):
                rule.times -= 1
                self.rules = [r for r in self.rules if r.times > 0]
                return rule
        return None

    def update(self, data: Mapping[str, Any]) -> None:
        """Change the plan from a JSON object (``POST /_fake/faults``)."""
        for name in self.knobs:
            if name in data:
                setattr(self, name, float(data[name]))
        if "seed" in data:
            self.seed = int(data["seed"])
            self._rng = random.Random(self.seed)
        if data.get("clear"):
            self.rules.clear()
        for rule in data.get("fail_next", []):
            self.rules.append(self.rule_from_json(rule))

    def to_json(self) -> JSONObject:
        """Return the plan as JSON."""
        data: JSONObject = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        data["rules"] = [asdict(rule) for rule in self.rules]
        return data


@dataclass(frozen=True)
class RecordedRequest:
    """What every fake records of a request it answered (status 0: the connection dropped)."""

    method: str
    route: str
    path: str
    status: int
    at: float


RecordT = TypeVar("RecordT", bound=RecordedRequest)


class CountingLog(Generic[RecordT]):
    """Every request counted by the record fields in ``key_fields``, plus the recent records."""

    key_fields: ClassVar[tuple[str, ...]] = ("method", "route", "status")

    def __init__(self, maxlen: int = 10_000) -> None:
        self.records: deque[RecordT] = deque(maxlen=maxlen)
        self.counts: Counter[tuple[Any, ...]] = Counter()

    def add(self, record: RecordT) -> None:
        """Log one request."""
        self.records.append(record)
        self.counts[tuple(getattr(record, name) for name in self.key_fields)] += 1

    def count_where(self, *wanted: object) -> int:
        """Count requests whose key matches ``wanted`` field by field (``None``: any)."""
        return sum(
            n
            for key, n in self.counts.items()
            if all(want is None or want == got for want, got in zip(wanted, key, strict=False))
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
                {**dict(zip(self.key_fields, key, strict=True)), "count": n}
                for key, n in sorted(self.counts.items())
            ],
        }


class Window(NamedTuple):
    """One fixed window of a key: when it opened and how many requests it has counted."""

    start: float
    used: int
    exceeded: bool = False


class FixedWindows:
    """Request counters per key in fixed windows that open at their first request."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    def current(self, key: str, window_s: float, now: float) -> Window:
        """Return ``key``'s window at ``now`` without counting (a new one once it has closed)."""
        start, used = self._windows.get(key, (now, 0))
        if now >= start + window_s:
            start, used = now, 0
        return Window(start, used)

    def hit(self, key: str, limit: int, window_s: float, now: float) -> Window:
        """Count one request unless ``limit`` is reached (then ``exceeded``)."""
        start, used, _ = self.current(key, window_s, now)
        exceeded = used >= limit
        if not exceeded:
            used += 1
        self._windows[key] = (start, used)
        return Window(start, used, exceeded)

    def fill(self, key: str, limit: int, window_s: float, now: float) -> None:
        """Use up ``key``'s window for the rest of its time."""
        self._windows[key] = (self.current(key, window_s, now).start, limit)
