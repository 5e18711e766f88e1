"""Webhook ingest: `prbot serve --role web` on Redis against a bare FastAPI 202, driven by wrk.

`python -m benchmarks.ingest [--redis URL] [--seconds 5] [--rounds 5] [--connections 16]`
starts both as real processes (benchmarks/targets.py) served by the same uvicorn set-up, one
worker each, and drives them with wrk (installed with apt-get when missing): the same signed
~22 KB pull_request delivery with a fresh delivery id per request, so prbot stores and queues
every one (the benchmark counts them in Redis). Each round measures both targets, in alternating
order, at `--connections` and then at one connection; the throughput ratio is taken per round.
Besides wrk's figures it reads the CPU time each server process (and Redis) spent per request.
Prints every phase and the summary figures as Markdown. Bounded in time; not part of the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio as aioredis

from benchmarks.table import Row, markdown
from benchmarks.targets import ROOT, Target, cpu_seconds, started
from benchmarks.wrk import WrkResult, ensure_wrk, lua_script, run_wrk, wrk_version
from bot.github.webhooks import DELIVERY_HEADER
from bot.ops.fixtures import load_delivery
from bot.web.app import WEBHOOK_PATH

SECRET = "ingest-benchmark-secret"
FIXTURE = ROOT / "fixtures/scenarios/pr-lifecycle/01-opened.json"
TIME_LIMIT_S = 900  # the whole run, whatever the arguments
SETTLE_S = 0.3  # after wrk stops, for requests still in the server to land in Redis
PRBOT = "prbot serve --role web + Redis"
BARE = "bare FastAPI 202"


@dataclass(frozen=True)
class Phase:
    """One wrk run against one target; `stored` counts the fresh deliveries prbot recorded."""

    round: int
    target: str
    connections: int
    result: WrkResult
    server_cpu_s: float
    redis_cpu_s: float = 0.0
    stored: int | None = None

    def per_request_us(self, cpu_s: float) -> float:
        """Return `cpu_s` per answered request, in microseconds."""
        return cpu_s / self.result.requests * 1e6 if self.result.requests else float("nan")

    def row(self) -> str:
        """Return this phase as a Markdown table row."""
        r = self.result
        stored = "-" if self.stored is None else str(self.stored)
        return (
            f"| {self.round} | {self.target} | {self.connections} | {r.requests} | {r.errors} "
            f"| {stored} | {r.throughput:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} "
            f"| {self.per_request_us(self.server_cpu_s):.0f} "
            f"| {self.per_request_us(self.redis_cpu_s):.0f} | {r.cpu_share:.0%} |"
        )


class Bench:
    """Drives the two targets with wrk and checks what prbot stored."""

    def __init__(self, args: argparse.Namespace, wrk: str, workdir: Path, prefix: str) -> None:
        self.args = args
        self.wrk = wrk
        self.workdir = workdir
        self.prefix = prefix
        self.redis = aioredis.Redis.from_url(args.redis)
        delivery = load_delivery(FIXTURE)
        self.body = delivery.body
        self.headers = delivery.signed_headers(SECRET)

    def script(self, base: str) -> Path:
        """Write a wrk script whose delivery ids no earlier phase used."""
        path = self.workdir / f"{uuid.uuid4().hex}.lua"
        host = base.removeprefix("http://")
        ids = f"bench-{path.stem[:12]}-"
        path.write_text(
            lua_script(host, WEBHOOK_PATH, self.headers, DELIVERY_HEADER, ids, self.body)
        )
        return path

    async def wrk_run(self, base: str, connections: int, seconds: int) -> WrkResult:
        """Run wrk once against `base` with a fresh script."""
        script = self.script(base)
        try:
            return await run_wrk(self.wrk, base + WEBHOOK_PATH, script, connections, seconds)
        finally:
            script.unlink()

    async def phase(self, n: int, target: Target, connections: int) -> Phase:
        """Measure one target at `connections`; for prbot, count and then delete what it stored.

        The CPU time the server process and Redis spent over the run is read around it.
        """
        server, redis = cpu_seconds(target.pid), await self.redis_cpu()
        result = await self.wrk_run(target.base, connections, self.args.seconds)
        server, redis = cpu_seconds(target.pid) - server, await self.redis_cpu() - redis
        if target.name == BARE:
            return Phase(n, target.name, connections, result, server, redis)
        await asyncio.sleep(SETTLE_S)
        stored = await self.count(f"{self.prefix}:dedup:*")
        await self.forget()
        return Phase(n, target.name, connections, result, server, redis, stored)

    async def redis_cpu(self) -> float:
        """Return the CPU time Redis has used so far (it may run anywhere, so ask it)."""
        info = await self.redis.info("cpu")
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])

    async def count(self, pattern: str) -> int:
        """Return how many keys match `pattern`."""
        return len([key async for key in self.redis.scan_iter(match=pattern, count=1000)])

    async def forget(self) -> None:
        """Delete every key the benchmark wrote."""
        async for key in self.redis.scan_iter(match=f"{self.prefix}:*", count=1000):
            await self.redis.unlink(key)


async def collect(args: argparse.Namespace) -> list[Phase]:
    """Measure both targets in rounds of alternating order (so noise hits both alike)."""
    wrk = ensure_wrk()
    prefix = f"prbench-{uuid.uuid4().hex[:8]}"
    phases: list[Phase] = []
    with tempfile.TemporaryDirectory(prefix="prbot-ingest-") as tmp:
        bench = Bench(args, wrk, Path(tmp), prefix)
        try:
            env = {"GITHUB_WEBHOOK_SECRET": SECRET, "REDIS_URL": args.redis}
            env.update({"REDIS_KEY_PREFIX": prefix, "DELIVERY_MAX": "2000"})
            async with (
                asyncio.timeout(TIME_LIMIT_S),
                started("prbot", PRBOT, env, Path(tmp)) as mine,
                started("bare", BARE, {}, Path(tmp)) as bare,
            ):
                for t in (mine, bare):  # warm-up: connections, imports, Lua scripts
                    await bench.wrk_run(t.base, args.connections, 1)
                await asyncio.sleep(SETTLE_S)
                await bench.forget()
                for n in range(1, args.rounds + 1):
                    for t in (mine, bare) if n % 2 else (bare, mine):
                        for connections in (args.connections, 1):
                            phases.append(await bench.phase(n, t, connections))
        finally:
            await bench.forget()
            await bench.redis.aclose()
    return phases


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _ratios(phases: list[Phase], connections: int) -> list[float]:
    by_round: dict[int, dict[str, float]] = {}
    for p in phases:
        if p.connections == connections:
            by_round.setdefault(p.round, {})[p.target] = p.result.throughput
    return [r[PRBOT] / r[BARE] for r in by_round.values() if r.get(BARE)]


def _pick(phases: list[Phase], name: str, connections: int) -> list[WrkResult]:
    return [p.result for p in phases if p.target == name and p.connections == connections]


def _cpu_us(phases: list[Phase], name: str, connections: int, redis: bool = False) -> float:
    mine = [p for p in phases if p.target == name and p.connections == connections]
    return _median([p.per_request_us(p.redis_cpu_s if redis else p.server_cpu_s) for p in mine])


def _latency(results: list[WrkResult]) -> str:
    p50, p99 = _median([r.p50_ms for r in results]), _median([r.p99_ms for r in results])
    return f"{p50:.1f} / {p99:.1f} ms"


def _checks(phases: list[Phase]) -> str:
    """Say whether every phase was clean: no errors, and prbot stored each answered 202 as fresh.

    Requests still in the server when wrk stops are stored but not counted by wrk, so a phase
    may store up to one more delivery per connection than wrk saw answered.
    """
    errors = sum(p.result.errors for p in phases)
    answered = sum(p.result.requests for p in phases if p.stored is not None)
    stored = sum(p.stored or 0 for p in phases)
    off = [
        p
        for p in phases
        if p.stored is not None
        and not p.result.requests <= p.stored <= p.result.requests + p.connections
    ]
    verdict = "every 202 stored as a fresh delivery" if not off else f"{len(off)} phases off"
    return f"errors or non-202: {errors}; {verdict} ({stored:,} stored, {answered:,} answered)"


def rows(phases: list[Phase], generator: str = "wrk") -> list[Row]:
    """Return the figures for the combined table (`python -m benchmarks`)."""
    c = max(p.connections for p in phases)
    ratios = _ratios(phases, c)
    spread = f" ({min(ratios):.2f}–{max(ratios):.2f})" if len(ratios) > 1 else ""
    mine, bare = _pick(phases, PRBOT, c), _pick(phases, BARE, c)
    how = (
        f"{generator}, 1 thread, {c} connections, {len(ratios)} alternating rounds (median, "
        "range); ~22 KB signed pull_request, a fresh delivery id per request"
    )
    mine_rate, bare_rate = (
        _median([r.throughput for r in mine]),
        _median([r.throughput for r in bare]),
    )
    cpu = max(p.result.cpu_share for p in phases)
    return [
        Row("ingest", "throughput ratio prbot / bare FastAPI 202",
            f"{_median(ratios):.2f}{spread}", how),
        Row("ingest", f"prbot throughput, {c} connections", f"{mine_rate:,.0f} req/s",
            f"bare: {bare_rate:,.0f} req/s (medians of rounds)"),
        Row("ingest", f"prbot ack p50 / p99, {c} connections", _latency(mine),
            f"bare: {_latency(bare)}"),
        Row("ingest", "prbot ack p50 / p99, 1 connection", _latency(_pick(phases, PRBOT, 1)),
            f"bare: {_latency(_pick(phases, BARE, 1))}; one request at a time"),
        Row("ingest", "CPU per request, prbot web process",
            f"{_cpu_us(phases, PRBOT, c):.0f} µs",
            f"bare: {_cpu_us(phases, BARE, c):.0f} µs; Redis: "
            f"{_cpu_us(phases, PRBOT, c, redis=True):.0f} µs per delivery ({c} connections, "
            "/proc and INFO cpu; less sensitive to other load than req/s)"),
        Row("ingest", "load generator CPU, busiest phase", f"{cpu:.0%} of a core",
            f"{generator}'s own CPU time over the phase (100%: it set the pace); "
            + _checks(phases)),
    ]  # fmt: skip


def report(phases: list[Phase], generator: str) -> str:
    """Return the Markdown table of every phase, then the summary figures."""
    lines = [
        "| round | target | connections | requests | errors | stored | req/s | p50 (ms) "
        "| p99 (ms) | server CPU/req (µs) | Redis CPU/req (µs) | wrk CPU |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(p.row() for p in phases),
        "",
        markdown(rows(phases, generator)),
    ]
    return "\n".join(lines)


def generator_name() -> str:
    """Return the load generator's name and version, installing it if needed."""
    return f"wrk {wrk_version(ensure_wrk())}"


def default_args(redis_url: str) -> argparse.Namespace:
    """Return the command line defaults, on `redis_url`."""
    return _parser().parse_args(["--redis", redis_url])


async def run(args: argparse.Namespace) -> int:
    """Measure both targets and print the report."""
    phases = await collect(args)
    print(report(phases, generator_name()))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest", description=__doc__)
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    parser.add_argument("--redis", default=redis_url, help="Redis for prbot (keys removed after)")
    parser.add_argument("--seconds", type=int, default=5, help="length of each phase (whole s)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, alternating the order")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables."""
    return asyncio.run(run(_parser().parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
