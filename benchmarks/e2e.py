"""End to end: a delivery POSTed to prbot → the Discord message request received by the fake.

`python -m benchmarks.e2e [--samples 200]` starts a private redis-server, a zero-latency fake
Discord in this process (no faults, rate limits out of the way) and `prbot serve` as real
processes — once as `--role all`, once as `--role web` + `--role worker` (the worker is woken over
Redis pub/sub) — opens a few PRs, then sends comments one at a time and times each from the POST
leaving the sender to the fake receiving the message, both read on the fake's clock.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks import sender
from benchmarks.audit import message_text
from benchmarks.cluster import PrbotProcess, RedisServer, prbot_environment, until
from benchmarks.stories import Pr, Writer, load_templates
from benchmarks.table import Row
from bot.web.app import WEBHOOK_PATH
from tests.fakes.discord_server import FakeDiscord

PRS = 10
# Gap between samples: 20 events/s, under the default 40/s global Discord pace.
SAMPLE_GAP_S = 0.05
TIME_LIMIT_S = 240


def percentile(values: list[float], q: float) -> float:
    """Return the `q`-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


class Probe:
    """Posts comments on the PRs and waits for each to reach the fake Discord."""

    def __init__(self, fake: FakeDiscord, channel_id: int, client: httpx.AsyncClient) -> None:
        self.fake = fake
        self.channel_id = channel_id
        self.client = client
        templates = load_templates()
        rng = random.Random(1)
        self.writers = [Writer(templates, Pr(i, "acme/widgets", 100 + i), rng) for i in range(PRS)]

    async def post(self, writer: Writer, kind: str) -> str | None:
        """Post the PR's next delivery of `kind`; return its marker."""
        delivery, marker = writer.delivery(kind)
        headers = delivery.signed_headers(sender.SECRET)
        response = await self.client.post(WEBHOOK_PATH, content=delivery.body, headers=headers)
        response.raise_for_status()
        return marker

    async def open_prs(self) -> None:
        """Open every PR and wait until each thread holds its intro."""
        for writer in self.writers:
            await self.post(writer, "opened")

        async def opened() -> bool:
            threads = self.fake.threads_in(self.channel_id)
            return len(threads) == PRS and all(self.fake.messages_in(t.id) for t in threads)

        await until(opened, 60, "threads opened")

    def arrival(self, marker: str) -> float | None:
        """Return when the message carrying `marker` reached the fake (fake clock), if it did."""
        for thread in self.fake.threads_in(self.channel_id):
            for message in reversed(self.fake.messages_in(thread.id)[-3:]):
                if marker in message_text(message.to_json()):
                    return message.created_at
        return None

    async def sample(self, i: int) -> float:
        """Send one comment; return its end-to-end latency in ms."""
        started = self.fake.now()
        marker = await self.post(self.writers[i % PRS], "comment")
        assert marker is not None
        deadline = time.monotonic() + 30
        while (arrived := self.arrival(marker)) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"comment {marker} never reached the fake Discord")
            await asyncio.sleep(0.0005)
        return (arrived - started) * 1000


async def measure(roles: list[str], samples: int, workdir: Path) -> list[float]:
    """Return the latencies (ms) of `samples` comments through `prbot serve` with `roles`."""
    redis = RedisServer(workdir / "-".join(roles), appendfsync="everysec")
    await redis.start()
    async with FakeDiscord(route_limit=10_000, global_limit=100_000) as fake:
        channel = fake.add_text_channel(fake.add_guild().id)
        env = prbot_environment(
            {
                "REDIS_URL": redis.url,
                "GITHUB_WEBHOOK_SECRET": sender.SECRET,
                "DISCORD_TOKEN": fake.token,
                "DISCORD_API_BASE": fake.api_base,
                "DISCORD_CHANNEL_ID": str(channel.id),
                "LOG_LEVEL": "WARNING",
            }
        )
        processes = [PrbotProcess(role, env, workdir) for role in roles]
        try:
            await asyncio.gather(*(p.start() for p in processes))
            async with httpx.AsyncClient(base_url=processes[0].base, timeout=10) as client:
                probe = Probe(fake, channel.id, client)
                await probe.open_prs()
                for i in range(PRS):  # warm-up: connections, scripts, discord.py buckets
                    await probe.sample(i)
                latencies = []
                for i in range(samples):
                    latencies.append(await probe.sample(i))
                    # Below DISCORD_GLOBAL_RATE: latency, not the pace of a sustained overload.
                    await asyncio.sleep(SAMPLE_GAP_S)
                return latencies
        finally:
            for process in processes:
                process.stop()
            redis.stop()


async def collect(samples: int) -> dict[str, list[float]]:
    """Measure both deployments."""
    with tempfile.TemporaryDirectory(prefix="prbot-e2e-") as tmp:
        async with asyncio.timeout(TIME_LIMIT_S):
            return {
                "prbot serve --role all": await measure(["all"], samples, Path(tmp)),
                "--role web + --role worker": await measure(["web", "worker"], samples, Path(tmp)),
            }


def rows(results: dict[str, list[float]]) -> list[Row]:
    """Return the figures for the combined table."""
    return [
        Row(
            "end to end",
            f"p50 / p99, {name}",
            f"{percentile(ms, 50):.1f} / {percentile(ms, 99):.1f} ms",
            f"{len(ms)} comments one at a time, {SAMPLE_GAP_S * 1000:.0f} ms apart: POST sent → "
            "message request at a zero-latency fake Discord; Redis on loopback",
        )
        for name, ms in results.items()
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its rows."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.e2e", description=__doc__)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args(argv)
    results = asyncio.run(collect(args.samples))
    print("\n".join(row.markdown() for row in rows(results)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
