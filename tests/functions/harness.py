"""Scenario harness: signed fixtures through the web app, runtime on real Redis, fake Discord."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any, cast

import httpx
import pytest

from bot.discord.rest import DiscordRestAdapter
from bot.github.api import GitHubAdapter
from bot.ops.fixtures import Delivery, load_delivery, scenarios_dir
from bot.prs.deps import Deps
from bot.runtime import ManualClock, Runtime, RuntimeOptions, Store, Worker
from bot.settings import load_settings
from bot.web.app import create_app
from functions import build_functions
from tests.discord.world import FakeTimeSleeps, World
from tests.fakes.discord_models import Message, Thread

SECRET = "scenario-webhook-secret"
USERS = "hubot=500000000000000001,octocat=500000000000000002,monalisa=500000000000000003"
MAX_SETTLE_ROUNDS = 200


@dataclass
class Harness:
    """Deliver fixtures, run every due run (moving both clocks), and inspect the fake Discord."""

    world: World
    store: Store
    runtime: Runtime
    clock: ManualClock
    client: httpx.AsyncClient
    deps: Deps
    answers: list[dict[str, Any]] = field(default_factory=list)
    # Other fakes' clocks that move with the runtime's (the fake GitHub's rate limits).
    clocks: list[Callable[[float], None]] = field(default_factory=list)
    app: Any = None  # the ASGI app, to serve on a real port when a fake must call prbot

    async def deliver(self, scenario: str, *names: str) -> list[str]:
        """POST fixtures (file stems, or all of the scenario) as GitHub would; return statuses."""
        folder = scenarios_dir() / scenario
        paths = [folder / f"{n}.json" for n in names] or sorted(folder.glob("*.json"))
        statuses = []
        for path in paths:
            statuses.append(await self.post(load_delivery(path)))
        return statuses

    async def post(self, delivery: Delivery) -> str:
        """POST one delivery to the webhook route and return its status."""
        response = await self.client.post(
            "/webhooks/github", content=delivery.body, headers=delivery.signed_headers(SECRET)
        )
        assert response.status_code in (200, 202), response.text
        body: dict[str, Any] = response.json()
        self.answers.append(body)
        return str(body["status"])

    async def variant(
        self, scenario: str, stem: str, delivery_id: str, change: Callable[[dict[str, Any]], None]
    ) -> str:
        """POST a changed copy of a fixture under a new delivery id; return its status."""
        original = load_delivery(scenarios_dir() / scenario / f"{stem}.json")
        payload: dict[str, Any] = original.payload()
        change(payload)
        headers = {**original.headers, "X-GitHub-Delivery": delivery_id}
        body = json.dumps(payload, separators=(",", ":")).encode()
        return await self.post(
            replace(original, delivery_id=delivery_id, headers=headers, body=body)
        )

    async def settle(self) -> None:
        """Run until nothing is left: due runs now, then jump both clocks to the next due one."""
        worker = Worker(self.runtime, concurrency=8)
        for _ in range(MAX_SETTLE_ROUNDS):
            await worker.run_until_idle()
            due = await self.next_due_ms()
            if due is None:
                return
            wait_s = max(0.0, (due - self.clock.now_ms()) / 1000) + 0.001
            self.advance(wait_s)
        raise AssertionError("runs still pending after many rounds")

    async def run_due(self) -> None:
        """Run what is due now, without moving any clock (a debounced run waits its turn)."""
        await Worker(self.runtime, concurrency=8).run_until_idle()

    def patches(self) -> int:
        """Return how many message edits the fake Discord answered."""
        route = "/channels/{channel_id}/messages/{message_id}"
        return sum(
            1 for r in self.world.fake.requests.records if (r.method, r.route) == ("PATCH", route)
        )

    def advance(self, seconds: float) -> None:
        """Move the runtime's clock and every fake's clock forward together."""
        self.clock.advance(seconds)
        self.world.fake.advance(seconds)
        for move in self.clocks:
            move(seconds)

    async def next_due_ms(self) -> int | None:
        """Return when the next queued run, or debounce or throttle timer, is due; None if idle.

        A parked run's timer (a sleep, or a wait's timeout: a reminder hours away) is left for
        the test to reach by moving time itself.
        """
        keys = self.store.keys
        sched = await self.store.redis.zrange(keys.sched, 0, 0, withscores=True)
        timers = cast(
            list[tuple[str, float]],
            await self.store.redis.zrange(keys.timers, 0, 99, withscores=True),
        )
        found = [float(sched[0][1])] if sched else []
        soon = [float(at) for member, at in timers if str(member).startswith(("d:", "t:"))]
        found += soon[:1]  # a debounced run (the card): seconds away
        return int(min(found)) if found else None

    async def play(self, scenario: str, *names: str) -> list[str]:
        """Deliver fixtures one by one, settling after each (webhooks seconds apart)."""
        folder = scenarios_dir() / scenario
        stems = list(names) or [p.stem for p in sorted(folder.glob("*.json"))]
        statuses = []
        for stem in stems:
            statuses += await self.deliver(scenario, stem)
            await self.settle()
        return statuses

    def threads(self, forum: bool = False) -> list[Thread]:
        """Return the threads of the text channel (or the forum)."""
        return self.world.fake.threads_in(self.world.forum.id if forum else self.world.text.id)

    def thread(self, forum: bool = False) -> Thread:
        """Return the only thread, failing if there are more."""
        (only,) = self.threads(forum)
        return only

    def messages(self, thread: Thread) -> list[Message]:
        """Return a thread's messages, oldest first."""
        return self.world.fake.messages_in(thread.id)

    async def failed_runs(self) -> list[str]:
        """Return the ids of failed runs."""
        return [str(r) for r in await self.store.redis.zrange(self.store.keys.runs_failed, 0, -1)]


def text_of(message: Message) -> str:
    """Return a message's content and embed texts as one string."""
    parts = [message.content]
    for embed in message.embeds:
        parts += [str(embed.get("title", "")), str(embed.get("description", ""))]
    return "\n".join(parts)


HarnessFactory = Callable[..., Any]


@pytest.fixture
async def scenario_store(redis_url: str) -> AsyncIterator[Store]:
    """Yield a store on the real Redis under a prefix of its own (isolated, then removed)."""
    prefix = f"scenario-{uuid.uuid4().hex[:12]}"
    store = Store.connect(redis_url, prefix=prefix)
    yield store
    keys = [k async for k in store.redis.scan_iter(match=f"{prefix}:*", count=500)]
    if keys:
        await store.redis.delete(*keys)
    await store.close()


@pytest.fixture
async def make_harness(
    world: World, scenario_store: Store, fast_sleeps: FakeTimeSleeps
) -> AsyncIterator[Callable[..., Any]]:
    """Yield `make(runtime_options, **env)`: a harness on the fake Discord and the real Redis."""
    real_store = scenario_store
    opened: list[tuple[DiscordRestAdapter, httpx.AsyncClient]] = []

    async def make(
        runtime_options: RuntimeOptions | None = None,
        github: GitHubAdapter | None = None,
        **env: str,
    ) -> Harness:
        values = {
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "DISCORD_TOKEN": world.fake.token,
            "DISCORD_API_BASE": world.fake.api_base,
            "DISCORD_CHANNEL_ID": str(world.text.id),
            "DISCORD_ALERT_CHANNEL_ID": str(world.alerts.id),
            "GITHUB_DISCORD_USERS": USERS,
        }
        settings = load_settings(values | env)
        adapter = await DiscordRestAdapter.login(
            world.fake.token, world.fake.api_base, sleep=fast_sleeps.sleep
        )
        clock = ManualClock()
        deps = Deps.build(settings, real_store, adapter, github)
        runtime = Runtime(real_store, build_functions(deps), clock=clock, options=runtime_options)
        app = create_app(settings, runtime)
        transport = httpx.ASGITransport(app=app)
        client = httpx.AsyncClient(transport=transport, base_url="http://prbot.test")
        opened.append((adapter, client))
        return Harness(world, real_store, runtime, clock, client, deps, app=app)

    yield make
    for adapter, client in opened:
        await client.aclose()
        await adapter.close()
