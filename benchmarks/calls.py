"""Discord calls per event: recorded scenarios through the real route, runtime and adapter.

`python -m benchmarks.calls` replays `pr-lifecycle` into a text channel and `forum` into a forum
channel, delivery by delivery, through the webhook route (in process, ASGI) into the runtime on
the embedded store, with discord.py talking to the fake Discord over a socket, and counts the
requests the fake answered for each delivery. Discord allows a bot 50 requests per second in
all, so calls per event is prbot's capacity.

Steady state, as in production: the channels were read at start (`startup_checks`, which
`prbot serve` runs; log-in and start-up are not counted), and the store has held every mapping
since before the PR opened — the recordings are from 2024, so the store is told it holds every
mapping since 2024-01-01. Then `opened` is counted again on a store that only holds mappings from
now on (new, or wiped), which must search the channel before it creates a thread.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from benchmarks import sender
from benchmarks.table import Row
from bot.discord.rest import DiscordRestAdapter
from bot.ops.fixtures import load_deliveries, scenarios_dir
from bot.ops.replay import drain
from bot.prs.deps import Deps
from bot.prs.mapping import ThreadStore
from bot.runtime import Runtime, Store, Worker
from bot.settings import load_settings
from bot.web.app import WEBHOOK_PATH, create_app
from functions import build_functions, startup_checks
from tests.fakes.discord_server import FakeDiscord

BEFORE_THE_RECORDINGS = datetime(2024, 1, 1, tzinfo=UTC).timestamp()
FORUM_TAGS = [
    "open",
    "draft",
    "approved",
    "changes requested",
    "merged",
    "closed",
    "checks failing",
]
# Where each scenario is replayed: pr-lifecycle into a text channel, forum into a forum.
SCENARIOS = {"pr-lifecycle": False, "forum": True}
FORUM_REPO = "octo-org/forum-demo"


@dataclass(frozen=True)
class Counts:
    """Calls per delivery of one scenario, and what `opened` costs on a store without history."""

    scenario: str
    forum: bool
    per_delivery: dict[str, int]
    opened_cold: int


async def count_calls(scenario: str, forum: bool = False, steady: bool = True) -> dict[str, int]:
    """Return the Discord requests each delivery of `scenario` caused, by fixture name."""
    async with FakeDiscord(route_limit=10_000, global_limit=100_000) as fake:
        guild = fake.add_guild().id
        text = fake.add_text_channel(guild)
        posts = fake.add_forum_channel(guild, tags=FORUM_TAGS)
        env = {"GITHUB_WEBHOOK_SECRET": sender.SECRET, "DISCORD_CHANNEL_ID": str(text.id)}
        if forum:
            env["REPO_CHANNELS"] = f"{FORUM_REPO}={posts.id}"
        settings = load_settings(env)
        store = Store.connect(None, prefix="calls")
        adapter = await DiscordRestAdapter.login(fake.token, api_base=fake.api_base)
        deps = Deps.build(settings, store, adapter)
        runtime = Runtime(store, build_functions(deps))
        worker = Worker(runtime)
        await startup_checks(deps)
        if steady:
            await ThreadStore(store).hold_every_mapping_since(BEFORE_THE_RECORDINGS)
        transport = httpx.ASGITransport(app=create_app(settings, runtime))
        counts: dict[str, int] = {}
        async with httpx.AsyncClient(transport=transport, base_url="http://prbot") as client:
            for delivery in load_deliveries([scenarios_dir() / scenario]):
                before = fake.requests.count()
                headers = delivery.signed_headers(sender.SECRET)
                response = await client.post(WEBHOOK_PATH, content=delivery.body, headers=headers)
                response.raise_for_status()
                await drain(runtime, worker)
                counts[delivery.source.stem] = fake.requests.count() - before
        await adapter.close()
        await store.close()
        return counts


async def collect() -> list[Counts]:
    """Count every scenario in steady state, and `opened` on a store without history."""
    found = []
    for scenario, forum in SCENARIOS.items():
        steady = await count_calls(scenario, forum)
        cold = await count_calls(scenario, forum, steady=False)
        found.append(Counts(scenario, forum, steady, cold[next(iter(cold))]))
    return found


def rows(found: list[Counts]) -> list[Row]:
    """Return the figures for the combined table."""
    out = []
    for c in found:
        total = sum(c.per_delivery.values())
        detail = ", ".join(f"{name.split('-', 1)[1]} {n}" for name, n in c.per_delivery.items())
        where = "forum channel" if c.forum else "text channel"
        out.append(
            Row(
                "Discord calls",
                f"per event, {c.scenario} ({len(c.per_delivery)} deliveries), {where}",
                f"{total / len(c.per_delivery):.1f}",
                f"{total} in all: {detail}",
            )
        )
    opened = " / ".join(str(next(iter(c.per_delivery.values()))) for c in found)
    cold = " / ".join(str(c.opened_cold) for c in found)
    out.append(
        Row(
            "Discord calls",
            "`opened`, text / forum channel",
            opened,
            f"steady state; {cold} when the store may have lost the mapping (new or wiped "
            "store, PR older than it): active and archived threads are searched first",
        )
    )
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the counts and print their rows."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.calls", description=__doc__)
    parser.parse_args(argv)
    print("\n".join(row.markdown() for row in rows(asyncio.run(collect()))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
