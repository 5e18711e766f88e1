"""`python -m benchmarks [--quick] [--skip-soak]`: run every benchmark, print ONE Markdown table.

Ingest, end to end, Discord calls per event, runtime throughput (also with runs parked in
waits), kill → resume time, Redis memory under `DELIVERY_MAX`, and the soak (for its verdict
and the peak RSS of `prbot serve`). Redis is a private redis-server on a free loopback port
(append-only, fsync every second), started and stopped here; only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import calls, e2e, ingest, memory, recovery, runtime, startup
from benchmarks.cluster import RedisServer
from benchmarks.soak import SoakConfig, SoakResult, soak
from benchmarks.table import Row, markdown

QUICK_SOAK = SoakConfig(deliveries=120, prs=8, kills=2, send_s=8.0, deadline_s=80.0)


def soak_rows(result: SoakResult, config: SoakConfig) -> list[Row]:
    """Return the soak's verdict and the peak RSS of the prbot processes."""
    f = result.figures
    verdict = "OK" if result.audit.ok else f"{len(result.audit.problems)} problems"
    how = (
        f"{config.deliveries} deliveries ({f['redelivered (same id)']} repeats) over "
        f"{config.prs} PRs, {f['worker SIGKILLs']} worker SIGKILLs, {f['Redis restarts']} Redis "
        f"restart, fake Discord {config.latency_ms:g} ms / {config.p429:.0%} 429 / "
        f"{config.p5xx:.0%} 5xx; all runs ended after {f['all runs ended after (s)']} s"
    )
    return [
        Row("soak", "lost / doubled / stuck", verdict, how),
        Row("memory", "peak RSS, prbot serve --role web", f"{f['peak RSS web (MiB)']} MiB", "soak"),
        Row(
            "memory",
            "peak RSS, prbot serve --role worker",
            f"{f['peak RSS worker (MiB)']} MiB",
            "soak; the highest of the worker processes",
        ),
    ]


async def run(quick: bool, skip_soak: bool) -> list[Row]:
    """Run the benchmarks in turn and return every row."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="prbot-bench-") as tmp:
        redis = RedisServer(Path(tmp), appendfsync="everysec")
        await redis.start()
        try:
            args = ingest.default_args(redis.url)
            args.seconds, args.rounds = (2, 2) if quick else (3, 4)
            rows += ingest.rows(await ingest.collect(args), ingest.generator_name())
            runs, parked = (1000, 2000) if quick else (5000, 10_000)
            rows += runtime.rows(await runtime.collect(runs, redis.url, 64, parked))
            rows += recovery.rows(await recovery.measure(redis.url, 3 if quick else 5))
            rows += startup.rows(await startup.collect(2 if quick else 5, redis.url))
        finally:
            redis.stop()
    rows += e2e.rows(await e2e.collect(50 if quick else 200))
    rows += calls.rows(await calls.collect())
    rows += memory.rows(await memory.collect(quick))
    if not skip_soak:
        config = QUICK_SOAK if quick else SoakConfig()
        result = await soak(config)
        print("\n".join(result.lines()), file=sys.stderr)
        rows += soak_rows(result, config)
    return rows


def machine() -> str:
    """Return a one-line description of this machine."""
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return (
        f"{os.cpu_count()} cores, {pages / 2**30:.0f} GiB, {platform.system()} "
        f"{platform.machine()}, Python {platform.python_version()}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run everything and print the table with the date and the machine."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs (about a minute)")
    parser.add_argument("--skip-soak", action="store_true", help="leave out the soak")
    args = parser.parse_args(argv)
    started = time.monotonic()
    rows = asyncio.run(run(args.quick, args.skip_soak))
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {machine()}\n")
    print(markdown(rows))
    print(f"\n({time.monotonic() - started:.0f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
