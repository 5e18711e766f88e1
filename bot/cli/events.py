"""`prbot events`: list recorded deliveries, export them as fixtures."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.ops.fixtures import dump_delivery
from bot.runtime import Store, SystemClock
from bot.runtime.inspect import format_events, get_event, list_events
from bot.settings import Settings


def _live_store(settings: Settings) -> Store | None:
    if settings.embedded:
        print(
            "prbot: no REDIS_URL: the embedded store keeps nothing between commands. "
            "Set REDIS_URL to read the deliveries a running prbot recorded.",
            file=sys.stderr,
        )
        return None
    from bot.ops.serve import build_store

    return build_store(settings)


async def list_command(settings: Settings, last: int, name: str | None) -> int:
    """Print the newest recorded events."""
    store = _live_store(settings)
    if store is None:
        return 2
    try:
        print(format_events(await list_events(store, last, name), SystemClock().now_ms()))
        return 0
    finally:
        await store.close()


async def export_command(settings: Settings, ids: Sequence[str], out: Path) -> int:
    """Write recorded deliveries as fixture files `NN-<event>.json` under `out`."""
    store = _live_store(settings)
    if store is None:
        return 2
    try:
        out.mkdir(parents=True, exist_ok=True)
        for n, event_id in enumerate(ids, 1):
            stored = await get_event(store, event_id)
            if stored is None:
                print(f"prbot: no delivery {event_id} (unknown or expired)", file=sys.stderr)
                return 1
            slug = re.sub(r"[^a-z0-9]+", "-", stored.event.name.split("/", 1)[-1].lower())
            path = out / f"{n:02d}-{slug.strip('-')}.json"
            dump_delivery(stored.meta, stored.event.data, path)
            print(f"wrote {path}")
        return 0
    finally:
        await store.close()
