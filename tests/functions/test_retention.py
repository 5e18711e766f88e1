"""A run keeps its event however long it waits: a rename held back by Discord's limit ends right."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bot.ops.fixtures import load_delivery, scenarios_dir
from bot.runtime import Worker
from tests.functions.harness import Harness

Make = Callable[..., Any]
SHORT_RETENTION_MS = 100  # far shorter than the rename limit's 600 s wait


async def test_a_rename_waiting_out_the_limit_past_retention_still_renames(
    make_harness: Make,
) -> None:
    h: Harness = await make_harness()
    h.store.limits = replace(h.store.limits, event_ttl_ms=SHORT_RETENTION_MS, events_max=3)
    await h.play("edge-cases", "02-opened-after-its-comment")
    thread = h.thread()
    for _ in range(2):  # the two renames of this ten-minute window are used up
        thread.renames.append(h.world.fake.now())
    await h.deliver("edge-cases", "05-edited-title-1")
    await Worker(h.runtime).run_until_idle()  # the rename meets the limit: retry in 600 s
    renames = [
        str(e) for e in await h.store.redis.zrange(h.store.keys.events, 0, -1) if ":rename:" in e
    ]
    assert len(renames) == 1
    rename_event = renames[0]
    assert await h.store.redis.pttl(h.store.keys.event(rename_event)) == -1  # held by its run
    # More deliveries push it out of the index, and Redis's clock passes the retention.
    for stem in ("03-comment-mentions", "04-comment-5000-chars"):
        h.clock.advance(1)
        await h.deliver("edge-cases", stem)
    await Worker(h.runtime).run_until_idle()
    assert rename_event not in await h.store.redis.zrange(h.store.keys.events, 0, -1)
    await asyncio.sleep(3 * SHORT_RETENTION_MS / 1000)

    await h.settle()  # both clocks jump the 600 s

    edit = load_delivery(scenarios_dir() / "edge-cases" / "05-edited-title-1.json").payload()
    pull: dict[str, Any] = edit["pull_request"]  # type: ignore[assignment]
    assert h.thread().name == f"#43 {pull['title']}"
    assert await h.failed_runs() == []
    assert await h.store.redis.exists(h.store.keys.event(rename_event)) == 0  # gone with its run
