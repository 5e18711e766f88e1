"""`prbot serve --role gateway`: PR-thread messages recorded as events, once, through drops."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from bot.ops.serve import Service, startup_problem
from bot.prs.inbox import CREATED, DELETED, UPDATED
from bot.prs.mapping import ThreadRecord, ThreadStore
from bot.runtime import Context, Store, function, run_id_for
from bot.runtime.inspect import list_events
from bot.settings import Settings, load_settings
from bot.web.metrics import Metrics
from tests.fakes.discord_gateway import FakeGateway
from tests.fakes.discord_models import Channel, Guild
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.discord_threads import create_thread
from tests.fakes.gateway_world import eventually
from tests.loopback import free_port, wait_until_up

PR = "octo-org/hello-world#42"
MESSAGE_CONTENT_LIMITED = 1 << 19


@function("mirror", "discord/message.*")
async def mirror(ctx: Context) -> str:
    """Stand in for the mirroring function: a run per recorded message event."""
    return "mirrored"


@dataclass
class Fakes:
    """Fake REST and gateway sharing a guild, a channel, a PR thread and another thread."""

    rest: FakeDiscord
    gw: FakeGateway
    guild: Guild
    channel: Channel
    pr_thread: int
    other_thread: int


@pytest.fixture
async def fakes() -> AsyncIterator[Fakes]:
    """Yield the fakes; the application has the MESSAGE_CONTENT switch on (limited flag)."""
    async with (
        FakeDiscord() as rest,
        FakeGateway(state=rest.state, heartbeat_interval_ms=250) as gw,
    ):
        rest.state.app.flags = MESSAGE_CONTENT_LIMITED
        guild = rest.add_guild()
        channel = rest.add_text_channel(guild.id)
        pr_thread = create_thread(rest.state, channel.id, {"name": "#42 Greetings", "type": 11})
        other = create_thread(rest.state, channel.id, {"name": "chat", "type": 11})
        yield Fakes(rest, gw, guild, channel, int(pr_thread["id"]), int(other["id"]))


def gateway_settings(fakes: Fakes, redis_url: str, **extra: str) -> Settings:
    """Return settings for a gateway role on the fakes and the test Redis."""
    env = {
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": "test",
        "DISCORD_TOKEN": fakes.rest.token,
        "DISCORD_API_BASE": fakes.rest.api_base,
        "DISCORD_GATEWAY_URL": fakes.gw.url,
        "GITHUB_WEBHOOK_SECRET": "gateway-tests-secret",
    }
    return load_settings(env | extra)


async def names_of(store: Store) -> list[tuple[str, str]]:
    """Return (event name, id) of every recorded event, oldest first."""
    return [(e.event.name, e.event.id) for e in reversed(await list_events(store, 100))]


async def test_pr_thread_messages_become_events_once_across_a_drop_and_resume(
    fakes: Fakes, real_store: Store, redis_url: str
) -> None:
    await ThreadStore(real_store).put(
        PR, ThreadRecord(thread_id=fakes.pr_thread, channel_id=fakes.channel.id)
    )
    gw, alice = fakes.gw, fakes.gw.user("alice")
    service = Service(
        gateway_settings(fakes, redis_url),
        "gateway",
        real_store,
        [mirror],
        metrics=Metrics(),
        gateway=True,
    )
    stop, port = asyncio.Event(), free_port()
    task = asyncio.create_task(service.run("127.0.0.1", port, stop))
    assert service.gateway is not None
    await asyncio.wait_for(service.gateway.gateway.wait_ready(), 5)
    first = gw.message_create(fakes.pr_thread, "LGTM", author=alice)
    gw.message_create(fakes.other_thread, "not about a PR", author=alice)
    gw.message_create(fakes.channel.id, "nor this", author=alice)
    gw.message_create(fakes.pr_thread, "my own post", author=gw.me)
    await eventually(lambda: service.gateway is not None and service.gateway.inbox.recorded == 1)
    assert gw.drop() == 1
    missed = gw.message_create(fakes.pr_thread, "written while prbot was away", author=alice)
    await eventually(lambda: len(gw.resumes) == 1 and len(gw.live) == 1)
    gw.dispatch("MESSAGE_CREATE", first)  # Discord sends one again: a duplicate, not a new event
    gw.message_update(int(first["id"]), "LGTM!")
    gw.message_delete(int(missed["id"]))
    await eventually(lambda: service.gateway is not None and service.gateway.inbox.recorded == 5)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        ready = (await client.get("/readyz")).json()
        assert (await client.post("/webhooks/github", content=b"{}")).status_code == 404
    stop.set()
    assert await asyncio.wait_for(task, 10) == 0
    events = await names_of(real_store)
    assert [(n, i.rsplit("-", 1)[-1] if n != UPDATED else "u") for n, i in events] == [
        (CREATED, "c"),
        (CREATED, "c"),
        (UPDATED, "u"),
        (DELETED, "d"),
    ]
    assert events[0][1] == f"discord-msg-{first['id']}-c"
    assert events[1][1] == f"discord-msg-{missed['id']}-c"
    assert events[2][1].startswith(f"discord-msg-{first['id']}-u-")
    runs = [await real_store.reads.run(run_id_for(i, "mirror")) for _, i in events]
    assert all(state["status"] == "queued" for state, _, _ in runs)  # recorded, never run here
    assert ready["checks"] == {"store": "ok", "gateway": "ok"}
    raw, _ = await real_store.reads.event(events[0][1])
    data = json.loads(raw or "{}")["event"]["data"]
    assert data == {
        "pr": PR,
        "repo": "octo-org/hello-world",
        "number": 42,
        "message_id": first["id"],
        "thread_id": str(fakes.pr_thread),
        "guild_id": str(fakes.guild.id),
        "url": f"https://discord.com/channels/{fakes.guild.id}/{fakes.pr_thread}/{first['id']}",
        "author": {"id": str(alice.id), "name": "alice", "bot": False, "webhook_id": None},
        "content": "LGTM",
        "attachments": [],
        "reply_to": None,
        "mentions": [],
        "edited_at": None,
    }


async def test_message_content_not_enabled_stops_the_gateway_role_with_a_clear_error(
    fakes: Fakes, real_store: Store, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    fakes.gw.privileged_intents = 0  # the switch is off: Discord closes IDENTIFY with 4014
    fakes.rest.state.app.flags = 0
    service = Service(
        gateway_settings(fakes, redis_url),
        "gateway",
        real_store,
        [],
        metrics=Metrics(),
        gateway=True,
    )
    code = await asyncio.wait_for(service.run("127.0.0.1", free_port(), asyncio.Event()), 10)
    assert code == 1 and fakes.gw.closes == [4014]
    assert "close 4014" in caplog.text and "MESSAGE CONTENT INTENT" in caplog.text
    assert "Developer Portal" in caplog.text and fakes.rest.token not in caplog.text


async def test_role_all_leaves_the_gateway_off_when_the_intent_is_off(
    fakes: Fakes, real_store: Store, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    fakes.rest.state.app.flags = 0
    service = Service(
        gateway_settings(fakes, redis_url), "all", real_store, [], metrics=Metrics(), gateway=True
    )
    stop, port = asyncio.Event(), free_port()
    task = asyncio.create_task(service.run("127.0.0.1", port, stop))
    base = f"http://127.0.0.1:{port}"
    await wait_until_up(base)
    await eventually(lambda: service.gateway is not None and service.gateway.state == "off")
    async with httpx.AsyncClient(base_url=base) as client:
        ready = (await client.get("/readyz")).json()
    stop.set()
    assert await asyncio.wait_for(task, 10) == 0
    assert ready["status"] == "ready" and "gateway" not in ready["checks"]
    assert fakes.gw.connections == []  # never tried: webhooks go on as before
    assert "Discord gateway not started" in caplog.text and "MESSAGE CONTENT" in caplog.text


def test_the_gateway_role_needs_a_token_and_redis() -> None:
    no_token = startup_problem(load_settings({"REDIS_URL": "redis://x"}), "gateway")
    assert no_token is not None and "--role gateway needs DISCORD_TOKEN" in no_token
    embedded = startup_problem(load_settings({"DISCORD_TOKEN": "t0ken-value"}), "gateway")
    assert embedded is not None and "needs REDIS_URL" in embedded
    # It receives no webhooks, so it needs no webhook secret.
    fine = load_settings({"DISCORD_TOKEN": "t0ken-value", "REDIS_URL": "redis://x"})
    assert startup_problem(fine, "gateway") is None
