"""Redis memory under a steady stream of deliveries: `DELIVERY_MAX` must bound it.

`python -m benchmarks.memory [--quick]` starts a private redis-server, a fake Discord in this
process (no faults; the rename limit out of the way so no run waits ten minutes) and prbot's
real app and functions on that Redis, with `DELIVERY_MAX=1000`. It sends 12,000 signed
deliveries — PR stories written from the recorded fixtures, about 40 PRs open at a time, each
told in order — through the webhook route (in process, ASGI), letting the worker run them as
they come. After 3,000 and after 12,000 deliveries, once every run has ended, it reads Redis's
`used_memory` and counts the keys by kind. The memory must stay flat: at 12,000 at most 1.25
times what it was at 3,000.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks import sender
from benchmarks.calls import BEFORE_THE_RECORDINGS
from benchmarks.cluster import RedisServer
from benchmarks.stories import REPOS, Pr, add_comments, load_templates, skeleton, write_story
from benchmarks.table import Row
from bot.discord.rest import DiscordRestAdapter
from bot.ops.fixtures import Delivery
from bot.ops.replay import drain
from bot.ops.serve import build_store
from bot.prs.deps import Deps
from bot.prs.mapping import ThreadStore
from bot.runtime import Runtime, Store, Worker
from bot.settings import load_settings
from bot.web.app import WEBHOOK_PATH, create_app
from functions import build_functions
from tests.fakes.discord_server import FakeDiscord

OPEN_AT_ONCE = 40
BATCH = 50  # deliveries sent before the worker catches up
# Key kinds by what follows the prefix (the first match wins).
KINDS = [
    ("event record", r"event:.*(?<!:holds)$"),
    ("event holds", r"event:.*:holds$"),
    ("dedup marker", r"dedup:"),
    ("run (state, steps, log)", r"run:"),
    ("PR mapping", r"data:thread:"),
    ("recent events by name", r"recent:"),
    ("indexes and the rest", r""),
]


@dataclass(frozen=True)
class Sample:
    """Redis after `sent` deliveries: used_memory, keys by kind and their bytes."""

    sent: int
    used_bytes: int
    keys: Counter[str]
    kind_bytes: Counter[str]

    @property
    def total_keys(self) -> int:
        """Return how many keys there are."""
        return sum(self.keys.values())


@dataclass(frozen=True)
class Memory:
    """The samples of one run, with the empty store's memory and the cap."""

    delivery_max: int
    empty_bytes: int
    samples: list[Sample]

    @property
    def ratio(self) -> float:
        """Return used_memory at the last sample over the first."""
        return self.samples[-1].used_bytes / self.samples[0].used_bytes

    @property
    def per_kept_delivery(self) -> float:
        """Return the bytes per delivery kept: the growth over empty divided by DELIVERY_MAX."""
        return (self.samples[-1].used_bytes - self.empty_bytes) / self.delivery_max


def deliveries(total: int, seed: int) -> Iterator[Delivery]:
    """Yield `total` deliveries: PR stories in lane order, OPEN_AT_ONCE PRs interleaved."""
    rng = random.Random(seed)
    templates = load_templates()
    lanes: list[list[Delivery]] = []
    index = 0
    sent = 0
    while sent < total:
        while len(lanes) < OPEN_AT_ONCE:
            pr = Pr(index, REPOS[index % 3], 1000 + index)  # text-channel repositories
            kinds = add_comments(skeleton(rng), rng.randint(3, 12))
            lanes.append([item.delivery for item in write_story(templates, pr, kinds, rng).lane])
            index += 1
        lane = rng.choice(lanes)
        yield lane.pop(0)
        sent += 1
        if not lane:
            lanes.remove(lane)


async def sample(store: Store, sent: int) -> Sample:
    """Read used_memory and every key's size, by kind."""
    client = store.redis
    info = await client.info("memory")
    keys = [str(k) async for k in client.scan_iter(match=f"{store.keys.prefix}:*", count=1000)]
    async with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.memory_usage(key, samples=0)
        sizes = await pipe.execute()
    counts: Counter[str] = Counter()
    kind_bytes: Counter[str] = Counter()
    head = len(store.keys.prefix) + 1
    for key, size in zip(keys, sizes, strict=True):
        kind = next(name for name, pattern in KINDS if re.match(pattern, key[head:]))
        counts[kind] += 1
        kind_bytes[kind] += int(size or 0)
    return Sample(sent, int(info["used_memory"]), counts, kind_bytes)


async def measure(redis_url: str, delivery_max: int, checkpoints: list[int]) -> Memory:
    """Send deliveries through the app on `redis_url`, sampling Redis at each checkpoint."""
    async with FakeDiscord(route_limit=100_000, global_limit=100_000, rename_limit=100_000) as fake:
        channel = fake.add_text_channel(fake.add_guild().id)
        env = {
            "GITHUB_WEBHOOK_SECRET": sender.SECRET,
            "DISCORD_CHANNEL_ID": str(channel.id),
            "REDIS_URL": redis_url,
            "DELIVERY_MAX": str(delivery_max),
        }
        settings = load_settings(env)
        store = build_store(settings)
        await store.redis.flushdb()
        adapter = await DiscordRestAdapter.login(fake.token, api_base=fake.api_base)
        runtime = Runtime(store, build_functions(Deps.build(settings, store, adapter)))
        # Steady state, as in benchmarks.calls: the store has held every mapping all along.
        await ThreadStore(store).hold_every_mapping_since(BEFORE_THE_RECORDINGS)
        worker = Worker(runtime, concurrency=32)
        transport = httpx.ASGITransport(app=create_app(settings, runtime))
        empty = int((await store.redis.info("memory"))["used_memory"])
        samples = []
        async with httpx.AsyncClient(transport=transport, base_url="http://prbot") as client:
            for n, delivery in enumerate(deliveries(checkpoints[-1], seed=11), start=1):
                headers = delivery.signed_headers(sender.SECRET)
                answer = await client.post(WEBHOOK_PATH, content=delivery.body, headers=headers)
                answer.raise_for_status()
                if n % BATCH == 0:
                    await worker.run_until_idle()
                if n in checkpoints:
                    await drain(runtime, worker)  # every run ended
                    samples.append(await sample(store, n))
        await adapter.close()
        await store.close()
        return Memory(delivery_max, empty, samples)


async def collect(quick: bool = False) -> Memory:
    """Run the benchmark on a private redis-server: 1,000 kept, 3,000 then 12,000 sent."""
    cap, checkpoints = (250, [750, 3_000]) if quick else (1_000, [3_000, 12_000])
    with tempfile.TemporaryDirectory(prefix="prbot-memory-") as tmp:
        redis = RedisServer(Path(tmp), appendfsync="everysec")
        await redis.start()
        try:
            return await measure(redis.url, cap, checkpoints)
        finally:
            redis.stop()


def mb(size: float) -> str:
    """Return bytes as MB with one decimal."""
    return f"{size / 1e6:.1f} MB"


def rows(memory: Memory) -> list[Row]:
    """Return the figures for the combined table."""
    first, last = memory.samples[0], memory.samples[-1]
    kinds = ", ".join(
        f"{kind} {mb(size)} ({last.keys[kind]:,} keys)"
        for kind, size in last.kind_bytes.most_common()
    )
    return [
        Row(
            "memory",
            f"Redis used_memory after {first.sent:,} / {last.sent:,} deliveries, "
            f"DELIVERY_MAX={memory.delivery_max:,}",
            f"{mb(first.used_bytes)} / {mb(last.used_bytes)} ({memory.ratio:.2f}×)",
            f"{first.total_keys:,} / {last.total_keys:,} keys; at {last.sent:,}: {kinds}",
        ),
        Row(
            "memory",
            "Redis per kept delivery",
            f"{memory.per_kept_delivery / 1000:.1f} KB",
            f"(used_memory at {last.sent:,} − empty {mb(memory.empty_bytes)}) / "
            f"{memory.delivery_max:,}: its record, runs, steps and logs, and a share of the "
            "24 h dedup markers and PR mappings",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its rows; exit 1 if memory grew past 1.25×."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="250 kept, 750 then 3,000 sent")
    args = parser.parse_args(argv)
    started = time.monotonic()
    memory = asyncio.run(collect(args.quick))
    print("\n".join(row.markdown() for row in rows(memory)))
    print(f"({time.monotonic() - started:.0f} s)")
    return 0 if memory.ratio <= 1.25 else 1


if __name__ == "__main__":
    raise SystemExit(main())
