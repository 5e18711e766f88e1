"""Soak: real processes, Redis with AOF, a faulty fake Discord, killed workers; nothing lost.

`python -m benchmarks.soak [--deliveries 1000] [--prs 50] [--kills 5] [--seed 1]` starts its own
redis-server (append-only, on a free port), the fake Discord (50 ms latency, 5% 429s, 10% 5xx),
`prbot serve --role web` and two `--role worker` processes, all on 127.0.0.1. It sends the signed
deliveries of `benchmarks.stories`, SIGKILLs a worker at random moments and starts it again,
restarts Redis once, waits until every run has ended, then checks the fake's state and the runs
(`benchmarks.audit`) and prints the figures. Bounded: it gives up after `--deadline` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
import redis.asyncio as aioredis

from benchmarks import sender, stories
from benchmarks.audit import Audit, audit
from benchmarks.cluster import (
    FakeDiscordProcess,
    FakeInfo,
    PrbotProcess,
    RedisServer,
    prbot_environment,
    until,
)
from benchmarks.sender import Sender
from benchmarks.stories import Plan
from bot.runtime.keys import Keys
from bot.settings import load_settings

PREFIX = "soak"


@dataclass(frozen=True)
class SoakConfig:
    """How hard to push: traffic, chaos, faults and time bounds."""

    deliveries: int = 1000
    prs: int = 50
    kills: int = 5
    redis_restarts: int = 1
    workers: int = 2
    send_s: float = 40.0  # the deliveries are spread over about this long
    deadline_s: float = 280.0  # the whole soak, start to verdict
    latency_ms: float = 50.0
    p429: float = 0.05
    p5xx: float = 0.1
    lease_s: float = 2.0
    concurrency: int = 16
    seed: int = 1
    logs_dir: str | None = None  # keep the processes' logs and Redis files here


@dataclass
class SoakResult:
    """The verdict and the figures of one soak."""

    audit: Audit
    figures: dict[str, Any] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """Return the report: figures, then problems (or OK)."""
        out = [f"{name:<28} {value}" for name, value in self.figures.items()]
        out += [f"{name:<28} {value}" for name, value in self.audit.figures.items()]
        if self.audit.ok:
            out.append("verdict                      OK: nothing lost, doubled or stuck")
        else:
            out.append(f"verdict                      {len(self.audit.problems)} PROBLEMS")
            out += [f"  - {p}" for p in self.audit.problems[:40]]
        return out


class Cluster:
    """Redis, the fake Discord, the web process and the workers of one soak."""

    def __init__(self, config: SoakConfig, workdir: Path) -> None:
        self.config = config
        self.workdir = workdir
        self.redis = RedisServer(workdir)
        self.fake_process = FakeDiscordProcess(
            config.latency_ms, config.p429, config.p5xx, config.seed, workdir
        )
        self.fake: FakeInfo | None = None
        self.env: dict[str, str] = {}
        self.web: PrbotProcess | None = None
        self.workers: list[PrbotProcess] = []
        self.kills = 0

    async def start(self) -> None:
        """Start everything and wait until every role is ready."""
        await self.redis.start()
        self.fake = await self.fake_process.start()
        self.env = self.environment(self.fake)
        env = prbot_environment(self.env)
        self.web = PrbotProcess("web", env, self.workdir)
        self.workers = [
            PrbotProcess("worker", env, self.workdir) for _ in range(self.config.workers)
        ]
        await asyncio.gather(*(p.start() for p in self.processes))

    def environment(self, fake: FakeInfo) -> dict[str, str]:
        """Return the prbot settings of the soak."""
        return {
            "REDIS_URL": self.redis.url,
            "REDIS_KEY_PREFIX": PREFIX,
            "GITHUB_WEBHOOK_SECRET": sender.SECRET,
            "DISCORD_TOKEN": fake.token,
            "DISCORD_API_BASE": fake.api_base,
            "DISCORD_CHANNEL_ID": str(fake.text_channel_id),
            "REPO_CHANNELS": f"{stories.FORUM_REPO}={fake.forum_channel_id}",
            "RUN_VISIBILITY_TIMEOUT_S": str(self.config.lease_s),
            "WORKER_CONCURRENCY": str(self.config.concurrency),
            "SHUTDOWN_TIMEOUT_S": "5",
            "LOG_LEVEL": "INFO",
        }

    @property
    def processes(self) -> list[PrbotProcess]:
        """Return every prbot process."""
        return ([self.web] if self.web else []) + self.workers

    async def kill_worker(self, rng: random.Random) -> None:
        """SIGKILL a random worker, then start it again."""
        worker = rng.choice(self.workers)
        worker.kill()
        self.kills += 1
        await asyncio.sleep(rng.uniform(0.0, 1.0))
        await worker.start()

    async def chaos(self, rng: random.Random) -> None:
        """Kill workers and restart Redis at random moments while the deliveries go out."""
        span = self.config.send_s
        plan = [(rng.uniform(1.0, span), "kill") for _ in range(self.config.kills)]
        plan += [(rng.uniform(0.3 * span, 0.7 * span), "redis")] * self.config.redis_restarts
        started = time.monotonic()
        for at, what in sorted(plan):
            await asyncio.sleep(max(0.0, started + at - time.monotonic()))
            if what == "kill":
                await self.kill_worker(rng)
            else:
                await self.redis.restart()

    async def sample_rss(self) -> None:
        """Sample the prbot processes' peak RSS until cancelled."""
        while True:
            for process in self.processes:
                process.sample()
            await asyncio.sleep(0.25)

    def stop(self) -> None:
        """Stop every process we started."""
        for process in self.processes:
            process.stop()
        self.fake_process.stop()
        self.redis.stop()


async def settled(redis_url: str) -> bool:
    """Tell whether no concurrency key is scheduled or leased: every run has ended."""
    client = aioredis.Redis.from_url(redis_url, socket_connect_timeout=1)
    try:
        return int(await client.zcard(Keys(PREFIX).sched)) == 0
    except (OSError, aioredis.RedisError):
        return False
    finally:
        await client.aclose()


async def read_runs(redis_url: str) -> dict[str, dict[str, str]]:
    """Return every run's state hash."""
    keys = Keys(PREFIX)
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    try:
        ids = cast(list[str], await client.zrange(keys.runs, 0, -1))
        async with client.pipeline(transaction=False) as pipe:
            for run_id in ids:
                pipe.hgetall(keys.run(run_id))
            states: list[dict[str, str]] = await pipe.execute()
    finally:
        await client.aclose()
    return dict(zip(ids, states, strict=True))


async def fake_state(fake: FakeInfo) -> dict[str, Any]:
    """Return the fake Discord's state dump."""
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(fake.state_url)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


def discord_figures(state: dict[str, Any]) -> dict[str, Any]:
    """Return the fake's request counters: total, 429s (and their top routes), 5xx."""
    rows = state["requests"]["by_route"]
    limited = Counter[str]()
    for r in rows:
        if r["status"] == 429:
            limited[f"{r['method']} {r['route']}"] += r["count"]
    top = ", ".join(f"{route} {n}" for route, n in limited.most_common(3))
    return {
        "Discord requests": int(state["requests"]["total"]),
        "Discord 429 answers": sum(limited.values()),
        "  top 429 routes": top,
        "Discord 5xx answers": sum(r["count"] for r in rows if r["status"] >= 500),
    }


async def drive(cluster: Cluster, plan: Plan, started: float) -> dict[str, Any]:
    """Send, cause chaos, wait for every run to end; return the traffic figures."""
    config = cluster.config
    rng = random.Random(config.seed)
    assert cluster.web is not None
    limits = httpx.Limits(max_connections=32)
    deadline = started + config.deadline_s
    async with httpx.AsyncClient(base_url=cluster.web.base, timeout=10, limits=limits) as client:
        posts = Sender(client, deadline)
        await asyncio.gather(posts.send(plan, config.send_s, config.seed), cluster.chaos(rng))
    sent_s = time.monotonic() - started
    remaining = max(1.0, deadline - time.monotonic())
    await until(lambda: settled(cluster.redis.url), remaining, "every run ended", every_s=0.25)
    return {
        "deliveries sent": plan.sent,
        "unique deliveries": plan.unique,
        "redelivered (same id)": plan.redelivered,
        "PRs / repositories": f"{len(plan.stories)} / {len({s.pr.repo for s in plan.stories})}",
        "sender retries (503/refused)": posts.retries,
        "worker SIGKILLs": cluster.kills,
        "prbot exits at start (retried)": sum(p.failed_starts for p in cluster.processes),
        "Redis restarts": cluster.redis.restarts,
        "sending took (s)": round(sent_s, 1),
        "all runs ended after (s)": round(time.monotonic() - started, 1),
        "_answers": posts.answers,
    }


async def soak(config: SoakConfig) -> SoakResult:
    """Run one soak and return its verdict."""
    plan = stories.plan(config.deliveries, config.prs, config.seed)
    with tempfile.TemporaryDirectory(prefix="prbot-soak-") as tmp:
        cluster = Cluster(config, Path(config.logs_dir or tmp))
        sampler: asyncio.Task[None] | None = None
        try:
            await cluster.start()
            sampler = asyncio.create_task(cluster.sample_rss())
            figures = await drive(cluster, plan, time.monotonic())
            assert cluster.fake is not None
            state = await fake_state(cluster.fake)
            runs = await read_runs(cluster.redis.url)
        finally:
            if sampler is not None:
                sampler.cancel()
            cluster.stop()
        answers: Counter[str] = figures.pop("_answers")
        settings = load_settings(cluster.env)
        result = audit(plan, state, runs, answers, settings)
        figures |= discord_figures(state)
        figures["peak RSS web (MiB)"] = round((cluster.web.peak_kib if cluster.web else 0) / 1024)
        figures["peak RSS worker (MiB)"] = round(max(w.peak_kib for w in cluster.workers) / 1024)
        return SoakResult(result, figures)


def main(argv: list[str] | None = None) -> int:
    """Run the soak from the command line; exit 1 when something was lost or doubled."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    defaults = SoakConfig()
    for name in ("deliveries", "prs", "kills", "workers", "seed"):
        parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name))
    parser.add_argument("--send-s", type=float, default=defaults.send_s)
    parser.add_argument("--deadline", type=float, default=defaults.deadline_s)
    parser.add_argument("--logs-dir", help="keep the processes' logs and Redis files here")
    args = parser.parse_args(argv)
    config = SoakConfig(
        deliveries=args.deliveries,
        prs=args.prs,
        kills=args.kills,
        workers=args.workers,
        seed=args.seed,
        send_s=args.send_s,
        deadline_s=args.deadline,
        logs_dir=args.logs_dir,
    )
    result = asyncio.run(asyncio.wait_for(soak(config), config.deadline_s + 60))
    print("\n".join(result.lines()))
    return 0 if result.audit.ok else 1


if __name__ == "__main__":
    sys.exit(main())
