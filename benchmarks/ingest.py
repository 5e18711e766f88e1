"""Webhook ingest: `prbot serve --role web` on Redis against a bare FastAPI 202, over loopback.

`python -m benchmarks.ingest [--redis URL] [--rate 50 200] [--seconds 5] [--rounds 3]` starts
both as real processes served by the same uvicorn set-up (`bot.ops.serve.http_server`), sends
each the same signed ~22 KB pull_request delivery (a fresh delivery id per request, so every one
is stored and queued) at fixed rates and then at saturation, in alternating rounds pooled
together, and prints p50/p99 latency, throughput and the throughput ratio as Markdown. Bounded in
requests and time; not part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis.asyncio as aioredis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from benchmarks.table import Row, markdown
from bot.github.webhooks import DELIVERY_HEADER
from bot.ops.fixtures import load_delivery
from bot.ops.serve import http_server, serve
from bot.runtime import Context, function
from bot.settings import load_settings
from bot.web.app import WEBHOOK_PATH
from tests.loopback import free_port, wait_until_up

HOST = "127.0.0.1"
SECRET = "ingest-benchmark-secret"
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures/scenarios/pr-lifecycle/01-opened.json"
URL = WEBHOOK_PATH
TIME_LIMIT_S = 600  # the whole run, whatever the arguments


@function("bench", "github/pull_request.*")
async def bench(ctx: Context) -> None:
    """Make every delivery queue a run, as the product's PR functions do."""


def bare_app() -> FastAPI:
    """Return the baseline: read the body, answer 202, nothing else."""
    app = FastAPI()

    @app.post(URL, status_code=202)
    async def receive(request: Request) -> JSONResponse:
        await request.body()
        delivery_id = request.headers.get(DELIVERY_HEADER, "")
        return JSONResponse({"id": delivery_id, "status": "queued"}, 202)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def serve_bare(port: int) -> int:
    """Serve the bare app the way `prbot serve` serves its own, until SIGTERM."""
    server = http_server(bare_app(), HOST, port)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, lambda: setattr(server, "should_exit", True))
    await server.serve()
    return 0


async def serve_prbot(port: int, redis_url: str, prefix: str) -> int:
    """Run `prbot serve --role web` against Redis under `prefix`."""
    env = {"GITHUB_WEBHOOK_SECRET": SECRET, "REDIS_URL": redis_url}
    env.update({"REDIS_KEY_PREFIX": prefix, "DELIVERY_MAX": "2000"})
    return await serve(load_settings(env), HOST, port, "web", [bench])


@dataclass(frozen=True)
class Sample:
    """One phase against one target: latencies of the 202s, the rest counted as errors."""

    target: str
    load: str
    latencies_ms: list[float]
    errors: int
    elapsed_s: float

    def percentile(self, q: float) -> float:
        """Return the `q`-th percentile latency in ms (nearest rank)."""
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]

    @property
    def throughput(self) -> float:
        """Return accepted requests per second."""
        return len(self.latencies_ms) / self.elapsed_s if self.elapsed_s else 0.0

    def row(self) -> str:
        """Return this sample as a Markdown table row."""
        n = len(self.latencies_ms) + self.errors
        return (
            f"| {self.target} | {self.load} | {n} | {self.errors} | {self.throughput:.0f} "
            f"| {self.percentile(50):.2f} | {self.percentile(99):.2f} |"
        )


class Load:
    """Sends the signed delivery with a fresh id per request and times the answers."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        delivery = load_delivery(FIXTURE)
        self.client = client
        self.body = delivery.body
        self.headers = delivery.signed_headers(SECRET)

    async def one(self, latencies: list[float], errors: list[int]) -> None:
        """Send one delivery and record its latency (or an error)."""
        headers = {**self.headers, DELIVERY_HEADER: str(uuid.uuid4())}
        started = time.perf_counter()
        try:
            response = await self.client.post(URL, content=self.body, headers=headers)
            ok = response.status_code == 202
        except httpx.HTTPError:
            ok = False
        if ok:
            latencies.append((time.perf_counter() - started) * 1000)
        else:
            errors.append(1)

    async def fixed_rate(self, target: str, rate: float, seconds: float) -> Sample:
        """Send at `rate` per second for `seconds`, never waiting for answers (open loop)."""
        latencies: list[float] = []
        errors: list[int] = []
        tasks = []
        started = time.perf_counter()
        for i in range(int(rate * seconds)):
            delay = started + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.one(latencies, errors)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        return Sample(target, f"{rate:g} req/s", latencies, len(errors), elapsed)

    async def saturate(self, target: str, concurrency: int, seconds: float, cap: int) -> Sample:
        """Keep `concurrency` requests in flight for `seconds` (at most `cap` requests)."""
        latencies: list[float] = []
        errors: list[int] = []
        deadline = time.perf_counter() + seconds
        sent = [0]

        async def loop() -> None:
            while time.perf_counter() < deadline and sent[0] < cap:
                sent[0] += 1
                await self.one(latencies, errors)

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        return Sample(target, f"saturation ({concurrency} conns)", latencies, len(errors), elapsed)


@asynccontextmanager
async def target(kind: str, args: argparse.Namespace, prefix: str) -> AsyncIterator[str]:
    """Run one target in its own process; yield its base URL; SIGTERM it afterwards."""
    port = free_port()
    command = ["-m", "benchmarks.ingest", "--serve", kind, "--port", str(port)]
    command += ["--redis", args.redis, "--prefix", prefix]
    with tempfile.TemporaryFile() as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *command, stdout=subprocess.DEVNULL, stderr=log
        )
        try:
            await wait_until_up(f"http://{HOST}:{port}")
            yield f"http://{HOST}:{port}"
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            if await asyncio.wait_for(process.wait(), 60) != 0:
                log.seek(0)
                sys.stderr.write(log.read().decode(errors="replace")[-4000:])


async def measure(kind: str, name: str, args: argparse.Namespace, prefix: str) -> list[Sample]:
    """Warm up, then measure one target at each fixed rate and at saturation."""
    async with target(kind, args, prefix) as base:
        limits = httpx.Limits(max_connections=args.concurrency + 8)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:
            load = Load(client)
            await load.saturate(name, 8, 1.0, 200)  # warm-up: connections, imports, scripts
            fixed = [await load.fixed_rate(name, rate, args.seconds) for rate in args.rate]
            saturated = await load.saturate(name, args.concurrency, args.seconds, args.max_requests)
    return [*fixed, saturated]


async def forget(redis_url: str, prefix: str) -> None:
    """Delete every key the benchmark wrote."""
    client = aioredis.Redis.from_url(redis_url)
    async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        await client.unlink(key)
    await client.aclose()


def split(samples: list[Sample]) -> tuple[list[Sample], Sample, list[Sample], Sample]:
    """Return (prbot fixed rates, prbot saturated, bare fixed rates, bare saturated)."""
    half = len(samples) // 2
    prbot, bare = samples[:half], samples[half:]
    return prbot[:-1], prbot[-1], bare[:-1], bare[-1]


def report(samples: list[Sample]) -> str:
    """Return the Markdown table of every phase, then the summary figures."""
    lines = [
        "| target | load | requests | errors | throughput (req/s) | p50 (ms) | p99 (ms) |",
        "|---|---|---:|---:|---:|---:|---:|",
        *(s.row() for s in samples),
        "",
        markdown(rows(samples)),
    ]
    return "\n".join(lines)


def pooled(rounds: list[list[Sample]]) -> list[Sample]:
    """Pool the same phase of every round: latencies together, requests over total time."""
    return [
        Sample(
            phase[0].target,
            phase[0].load,
            [ms for s in phase for ms in s.latencies_ms],
            sum(s.errors for s in phase),
            sum(s.elapsed_s for s in phase),
        )
        for phase in zip(*rounds, strict=True)
    ]


async def collect(args: argparse.Namespace) -> list[Sample]:
    """Measure both targets in alternating rounds (so noise hits both alike); pool the rounds."""
    prefix = f"prbench-{uuid.uuid4().hex[:8]}"
    mine: list[list[Sample]] = []
    bare: list[list[Sample]] = []
    try:
        async with asyncio.timeout(TIME_LIMIT_S):
            for _ in range(args.rounds):
                mine.append(await measure("prbot", "prbot serve --role web + Redis", args, prefix))
                bare.append(await measure("bare", "bare FastAPI 202", args, prefix))
    finally:
        await forget(args.redis, prefix)
    return pooled(mine) + pooled(bare)


def rows(samples: list[Sample]) -> list[Row]:
    """Return the figures for the combined table (`python -m benchmarks`)."""
    prbot_fixed, prbot_sat, bare_fixed, bare_sat = split(samples)
    ratio = prbot_sat.throughput / bare_sat.throughput if bare_sat.throughput else 0.0
    how = f"same client and run, {prbot_sat.load}; ~22 KB signed pull_request"
    out = [
        Row("ingest", "throughput ratio prbot / bare FastAPI 202", f"{ratio:.2f}", how),
        Row(
            "ingest",
            "prbot throughput at saturation",
            f"{prbot_sat.throughput:,.0f} req/s",
            f"bare: {bare_sat.throughput:,.0f} req/s",
        ),
    ]
    for mine, bare in zip(prbot_fixed, bare_fixed, strict=True):
        out.append(
            Row(
                "ingest",
                f"prbot ack p50 / p99 at {mine.load}",
                f"{mine.percentile(50):.1f} / {mine.percentile(99):.1f} ms",
                f"bare: {bare.percentile(50):.1f} / {bare.percentile(99):.1f} ms",
            )
        )
    return out


def default_args(redis_url: str) -> argparse.Namespace:
    """Return the command line defaults, on `redis_url`."""
    return _parser().parse_args(["--redis", redis_url])


async def run(args: argparse.Namespace) -> int:
    """Measure both targets and print the report."""
    print(report(await collect(args)))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest", description=__doc__)
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    parser.add_argument("--redis", default=redis_url, help="Redis for prbot (keys removed after)")
    parser.add_argument(
        "--rate", type=float, nargs="+", default=[50.0, 200.0], help="fixed rates, requests/s"
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds, pooled")
    parser.add_argument("--concurrency", type=int, default=32, help="connections at saturation")
    parser.add_argument("--max-requests", type=int, default=20_000, help="cap at saturation")
    parser.add_argument("--serve", choices=["prbot", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--prefix", default="prbench", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, or (internally) one of its targets."""
    args = _parser().parse_args(argv)
    if args.serve == "bare":
        return asyncio.run(serve_bare(args.port))
    if args.serve == "prbot":
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        return asyncio.run(serve_prbot(args.port, args.redis, args.prefix))
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
