"""Discord calls per event: the pr-lifecycle scenario through the real route, runtime and adapter.

`python -m benchmarks.calls [--scenario pr-lifecycle]` replays the scenario's recorded deliveries
one by one through the webhook route (in process, ASGI) into the runtime on the embedded store,
with discord.py talking to the fake Discord over a socket, and counts the requests the fake
answered for each delivery (log-in excluded). Fewer is better: lookups come from the store.
"""

from __future__ import annotations

import argparse
import asyncio

import httpx

from benchmarks import sender
from benchmarks.table import Row
from bot.discord.rest import DiscordRestAdapter
from bot.ops.fixtures import load_deliveries, scenarios_dir
from bot.ops.replay import drain
from bot.prs.deps import Deps
from bot.runtime import Runtime, Store, Worker
from bot.settings import load_settings
from bot.web.app import WEBHOOK_PATH, create_app
from functions import build_functions
from tests.fakes.discord_server import FakeDiscord


async def count_calls(scenario: str) -> dict[str, int]:
    """Return the Discord requests each delivery of `scenario` caused, by fixture name."""
    async with FakeDiscord(route_limit=10_000, global_limit=100_000) as fake:
        channel = fake.add_text_channel(fake.add_guild().id)
        settings = load_settings(
            {"GITHUB_WEBHOOK_SECRET": sender.SECRET, "DISCORD_CHANNEL_ID": str(channel.id)}
        )
        store = Store.connect(None, prefix="calls")
        adapter = await DiscordRestAdapter.login(fake.token, api_base=fake.api_base)
        runtime = Runtime(store, build_functions(Deps.build(settings, store, adapter)))
        worker = Worker(runtime)
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


def rows(scenario: str, counts: dict[str, int]) -> list[Row]:
    """Return the figure for the combined table."""
    total = sum(counts.values())
    detail = ", ".join(f"{name.split('-', 1)[1]} {n}" for name, n in counts.items())
    return [
        Row(
            "Discord calls",
            f"per event, {scenario} ({len(counts)} deliveries)",
            f"{total / len(counts):.1f}",
            f"{total} in all: {detail}",
        )
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the count and print its row."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.calls", description=__doc__)
    parser.add_argument("--scenario", default="pr-lifecycle")
    args = parser.parse_args(argv)
    counts = asyncio.run(count_calls(args.scenario))
    print("\n".join(row.markdown() for row in rows(args.scenario, counts)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
