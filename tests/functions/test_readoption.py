"""After a Redis wipe, a PR's next event goes to its thread however old, never to a second one."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot.runtime import run_id_for
from tests.fakes import discord_threads
from tests.functions.harness import Harness, text_of

Make = Callable[..., Any]
COMMENT_DELIVERY = "adf43996-0b8a-11ef-a052-58509ff39459"  # pr-lifecycle/02-comment


async def wipe(h: Harness) -> None:
    """Delete every key of the harness's store, as a Redis wipe (or a lost volume) would."""
    keys = [k async for k in h.store.redis.scan_iter(match=f"{h.store.keys.prefix}:*")]
    await h.store.redis.delete(*keys)


async def test_the_next_event_after_a_wipe_finds_the_oldest_of_2500_archived_threads(
    make_harness: Make,
) -> None:
    h: Harness = await make_harness()
    await h.play("pr-lifecycle", "01-opened", "10-merged")  # #42's thread, archived first
    (mine,) = h.threads()
    assert mine.archived
    state = h.world.fake.state
    for n in range(1000, 3500):  # 2,500 threads archived after it, a second apart
        made = discord_threads.create_thread(
            state, h.world.text.id, {"name": f"#{n} x", "type": 11}
        )
        h.world.fake.advance(1)
        discord_threads.edit_channel(state, int(made["id"]), {"archived": True})
    await wipe(h)

    assert await h.deliver("pr-lifecycle", "02-comment") == ["queued"]
    await h.settle()

    assert len(h.threads()) == 2501  # no second thread for #42
    assert "Brazilian Portuguese" in text_of(h.messages(mine)[-1])
    assert await h.failed_runs() == []
    run_id = run_id_for(COMMENT_DELIVERY, "pr-comments")
    log = [json.loads(x) for x in await h.store.redis.lrange(h.store.keys.log(run_id), 0, -1)]
    slices = [e for e in log if e.get("status") == "error" and "continuing" in e.get("error", "")]
    assert len(slices) == 1  # the archive was paged back in two steps of the same run
    assert (await h.store.redis.hgetall(h.store.keys.run(run_id)))["status"] == "completed"
