"""Start-up: from the command to the first `200` on /healthz, for `prbot dev` and `prbot serve`.

`python -m benchmarks.startup [--runs 5]` starts each command `--runs` times on a free loopback
port and reports the median and the slowest: how long a developer waits for `prbot dev`, and
how soon a restarted container answers its health check. Mostly imports (discord.py,
githubkit, FastAPI) on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import time
from pathlib import Path

import httpx

from benchmarks.table import Row
from tests.loopback import free_port

ROOT = Path(__file__).resolve().parent.parent
LIMIT_S = 60.0
COMMANDS = {
    "prbot dev": ["dev"],
    "prbot serve --role web": ["serve", "--role", "web"],
}


async def time_to_health(args: list[str], env: dict[str, str]) -> float:
    """Return the seconds from starting `python -m bot ARGS` to its first healthy answer."""
    port = free_port()
    command = [sys.executable, "-m", "bot", "--env-file", "/nonexistent", *args]
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *command, "--port", str(port), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with httpx.AsyncClient(timeout=0.5) as client:
            while time.monotonic() - started < LIMIT_S:
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                        return time.monotonic() - started
                except httpx.TransportError:
                    await asyncio.sleep(0.01)
        raise RuntimeError(f"{' '.join(args)} did not answer /healthz within {LIMIT_S:.0f} s")
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()


async def collect(runs: int, redis_url: str) -> dict[str, list[float]]:
    """Time each command `runs` times, alternating them."""
    env = {"PATH": os.environ.get("PATH", ""), "REDIS_URL": redis_url}
    env["GITHUB_WEBHOOK_SECRET"] = "startup-benchmark-secret-0123456789"
    found: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, args in COMMANDS.items():
            found[name].append(await time_to_health(args, env))
    return found


def rows(found: dict[str, list[float]]) -> list[Row]:
    """Return one row per command: median and slowest start-up."""
    out = []
    for name, times in found.items():
        value = f"{statistics.median(times):.2f} / {max(times):.2f} s"
        how = f"median / slowest of {len(times)} starts: command → first 200 on /healthz"
        out.append(Row("start-up", f"{name}, to /healthz", value, how))
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the start-up rows."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"))
    args = parser.parse_args(argv)
    print("\n".join(row.markdown() for row in rows(asyncio.run(collect(args.runs, args.redis)))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
