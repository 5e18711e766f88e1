"""`prbot runs`: list runs and show one run's step timeline."""

from __future__ import annotations

import sys

from bot.runtime import Store, SystemClock
from bot.runtime.inspect import format_run, format_runs, get_run, list_runs
from bot.settings import Settings


async def runs_command(
    settings: Settings,
    action: str | None,
    run_id: str | None,
    failed: bool,
    function_id: str | None,
    limit: int,
) -> int:
    """Print the runs table, or one run's timeline; return the exit code."""
    if settings.embedded:
        print(
            "prbot: no REDIS_URL: the embedded store keeps nothing between commands, "
            "so there are no runs to show. Set REDIS_URL to inspect a running prbot.",
            file=sys.stderr,
        )
        return 2
    store = Store.connect(settings.redis_url, settings.redis_key_prefix)
    now = SystemClock().now_ms()
    try:
        if action == "show":
            if not run_id:
                print("prbot: usage: prbot runs show RUN_ID", file=sys.stderr)
                return 2
            detail = await get_run(store, run_id)
            if detail is None:
                print(f"prbot: no run {run_id} (unknown or expired)", file=sys.stderr)
                return 1
            print(format_run(detail, now))
            return 0
        print(format_runs(await list_runs(store, limit, failed, function_id), now))
        return 0
    finally:
        await store.close()
