"""`prbot serve --role all` with the gateway: thread messages end as PR comments on GitHub."""

from __future__ import annotations

import asyncio

from bot.discord.dryrun import DryRunAdapter
from bot.ops.serve import Service
from bot.prs.deps import Deps
from bot.prs.mapping import ThreadRecord, ThreadStore
from bot.prs.mirror import marker
from bot.runtime import Store
from bot.web.metrics import Metrics
from functions import build_functions
from tests.fakes.gateway_world import eventually
from tests.github.world import door_world
from tests.loopback import free_port
from tests.ops.test_gateway_role import Fakes, fakes, gateway_settings

__all__ = ["fakes"]

PR = "acme/widgets#1"


async def test_messages_written_in_a_pr_thread_are_mirrored_edited_and_deleted(
    fakes: Fakes, real_store: Store, redis_url: str
) -> None:
    await ThreadStore(real_store).put(
        PR, ThreadRecord(thread_id=fakes.pr_thread, channel_id=fakes.channel.id)
    )
    async with door_world(real_store) as door:
        settings = gateway_settings(fakes, redis_url, **door.token_env())
        github = door.open(door.token_env())
        deps = Deps.build(settings, real_store, DryRunAdapter(echo=False), github)
        service = Service(
            settings, "all", real_store, build_functions(deps), metrics=Metrics(), gateway=True
        )
        stop = asyncio.Event()
        task = asyncio.create_task(service.run("127.0.0.1", free_port(), stop))
        assert service.gateway is not None
        await asyncio.wait_for(service.gateway.gateway.wait_ready(), 5)
        gw, alice = fakes.gw, fakes.gw.user("alice")

        def comments() -> list[str]:
            return [c.body for c in door.fake.comments_on(door.world.repo, 1)]

        kept = gw.message_create(fakes.pr_thread, "LGTM", author=alice)
        gone = gw.message_create(fakes.pr_thread, "typo", author=alice)
        gw.message_create(fakes.pr_thread, "beep", author=gw.bot_user())
        gw.message_create(fakes.pr_thread, "CI passed", author=gw.webhook())
        gw.message_create(fakes.pr_thread, "prbot's own", author=gw.me)
        gw.dispatch("MESSAGE_CREATE", kept)  # Discord sends it again after a resume
        await eventually(lambda: len(comments()) == 2)
        gw.message_update(int(kept["id"]), "LGTM!")
        gw.message_delete(int(gone["id"]))
        await eventually(lambda: len(comments()) == 1 and "LGTM!" in comments()[0])
        stop.set()
        assert await asyncio.wait_for(task, 10) == 0
        await github.close()
    (body,) = comments()
    assert body.startswith("**alice** wrote [on Discord](https://discord.com/channels/")
    assert body.endswith(marker(kept["id"]))
