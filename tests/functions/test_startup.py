"""Start-up checks of `prbot serve`: they warn, and a passing Discord error never stops a start."""

from __future__ import annotations

import pytest

from bot.discord.rest import DiscordRestAdapter
from bot.prs.deps import Deps
from bot.runtime import Store
from bot.settings import load_settings
from functions import startup_checks
from tests.discord.world import World


async def test_a_passing_discord_error_only_warns(
    world: World, adapter: DiscordRestAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    # Soak finding: one 503 on GET /channels/{id} here made a worker exit with 1 at start.
    settings = load_settings({"DISCORD_CHANNEL_ID": str(world.forum.id)})
    store = Store.connect(None, prefix="t")
    world.fake.faults.fail_next("GET", "/channels/*", 503)
    await startup_checks(Deps.build(settings, store, adapter))
    await store.close()
    assert "could not check the forum tags at start" in caplog.text
    assert world.fake.requests.count("GET", "/channels/{channel_id}", 503) == 1
