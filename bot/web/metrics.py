"""Prometheus metrics: deliveries, runs, steps, retries, Discord calls, queue depth, backfill."""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.runtime import Observer, Store, StoreUnavailableError

log = logging.getLogger(__name__)

__all__ = [
    "CONTENT_TYPE_LATEST",
    "Metrics",
    "MetricsObserver",
    "default_metrics",
    "record_discord_call",
]

_STEP_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_REQUEST_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class Metrics:
    """Every prbot metric, in its own registry so that apps and tests do not share counters."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.deliveries = Counter(
            "prbot_webhook_deliveries",
            "Webhook deliveries by GitHub event and outcome.",
            ["event", "status"],
            registry=r,
        )
        self.delivery_seconds = Histogram(
            "prbot_webhook_duration_seconds",
            "Time to answer a webhook delivery.",
            buckets=_REQUEST_BUCKETS_S,
            registry=r,
        )
        self.runs = Counter(
            "prbot_runs", "Run outcomes by function and status.", ["function", "status"], registry=r
        )
        self.step_seconds = Histogram(
            "prbot_step_duration_seconds",
            "Step durations by function and outcome.",
            ["function", "outcome"],
            buckets=_STEP_BUCKETS_S,
            registry=r,
        )
        self.retries = Counter(
            "prbot_retries", "Runs scheduled for another attempt.", ["function"], registry=r
        )
        self.discord_calls = Counter(
            "prbot_discord_api_calls",
            "Discord API calls by route and HTTP status.",
            ["route", "status"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "prbot_queue_depth", "Concurrency keys with work waiting or running.", registry=r
        )
        self.parked = Gauge(
            "prbot_runs_parked",
            "Runs parked off their queues (sleeping or waiting for an event), with pending "
            "debounce and throttle timers.",
            registry=r,
        )
        self.inbox_depth = Gauge(
            "prbot_inbox_depth",
            "Deliveries accepted whose runs a worker has not planned yet.",
            registry=r,
        )
        self._delivery_counts: dict[tuple[str, str], Any] = {}
        self._backfill_metrics(r)

    def _backfill_metrics(self, r: CollectorRegistry) -> None:
        self.backfill_deliveries = Counter(
            "prbot_backfill_deliveries",
            "Webhook deliveries the periodic backfill saw, found missed, redelivered or failed to.",
            ["outcome"],
            registry=r,
        )
        self.backfill_runs = Counter(
            "prbot_backfill_runs", "Periodic backfill runs by result.", ["result"], registry=r
        )
        self.backfill_last_run = Gauge(
            "prbot_backfill_last_run_timestamp_seconds",
            "When this process last ran the backfill (Unix time).",
            registry=r,
        )

    def record_backfill(self, *, seen: int, missed: int, redelivered: int, failed: int) -> None:
        """Count what one backfill run saw and did."""
        counts = {"seen": seen, "missed": missed, "redelivered": redelivered, "failed": failed}
        for outcome, n in counts.items():
            self.backfill_deliveries.labels(outcome).inc(n)

    def record_backfill_run(self, result: str, at_s: float) -> None:
        """Count a backfill run (`ok`, `partial` or `failed`) and when it ran."""
        self.backfill_runs.labels(result).inc()
        self.backfill_last_run.set(at_s)

    def record_delivery(self, event: str, status: str, duration_s: float) -> None:
        """Count one webhook delivery and how long answering it took."""
        counter = self._delivery_counts.get((event, status))
        if counter is None:  # a labelled child is looked up once: this runs on every delivery
            counter = self._delivery_counts[(event, status)] = self.deliveries.labels(event, status)
        counter.inc()
        self.delivery_seconds.observe(duration_s)

    async def refresh(self, store: Store) -> None:
        """Read the gauges that live in the store (queue, inbox, parked runs) when scraped."""
        try:
            depth = await store.reads.queue_depth()
            parked = await store.reads.parked()  # one ZCARD: cheap however many are parked
            inbox = await store.reads.inbox_depth()
        except StoreUnavailableError as exc:  # a scrape must not fail because Redis does
            log.debug("queue depth unavailable: %s", exc)
            return
        self.queue_depth.set(depth)
        self.parked.set(parked)
        self.inbox_depth.set(inbox)

    def exposition(self) -> bytes:
        """Return the metrics in the Prometheus text format."""
        return generate_latest(self.registry)


class MetricsObserver(Observer):
    """Runtime observer that feeds the run, step and retry metrics."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def run_finished(self, function_id: str, status: str) -> None:
        """Count a run ending (or being rescheduled) with `status`."""
        self.metrics.runs.labels(function_id, status).inc()

    def step_finished(self, function_id: str, ok: bool, duration_s: float) -> None:
        """Record a step's duration under its outcome."""
        outcome = "ok" if ok else "error"
        self.metrics.step_seconds.labels(function_id, outcome).observe(duration_s)

    def retried(self, function_id: str) -> None:
        """Count a retry."""
        self.metrics.retries.labels(function_id).inc()


_default: Metrics | None = None


def default_metrics() -> Metrics:
    """Return this process's metrics (made on first use), the ones `prbot serve` exposes."""
    global _default
    if _default is None:
        _default = Metrics()
    return _default


def record_discord_call(route: str, status: int, metrics: Metrics | None = None) -> None:
    """Count one Discord API call; `route` is the route template, e.g. `PATCH /channels/{id}`."""
    (metrics or default_metrics()).discord_calls.labels(route, str(status)).inc()
