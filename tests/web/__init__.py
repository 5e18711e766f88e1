"""Tests of the webhook receiver: the pure core, the ASGI app, `prbot serve`; shared helpers."""

from __future__ import annotations

import asyncio
import functools
import json
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.github.webhooks import DELIVERY_HEADER, EVENT_HEADER, JSON_TYPE, SIGNATURE_HEADER, sign
from bot.ops.serve import Service, build_store
from bot.runtime import Function
from bot.settings import Settings
from bot.web.metrics import Metrics
from tests.loopback import free_port, wait_until_up

SECRET = "s3cr3t-for-tests-only-0123456789"
DISCORD_TOKEN = "MTIz.discord-token-for-tests.only-0123456789"
ROOT = Path(__file__).resolve().parents[2]
# Recorded payloads (octokit/webhooks-examples), used until the project's fixtures cover an event.
SHARED_PAYLOADS = ROOT.parent / "shared" / "github-webhooks"


@dataclass(frozen=True)
class Sample:
    """A recorded delivery: GitHub's headers (unsigned) and the exact body bytes."""

    event: str
    body: bytes

    def headers(
        self, delivery_id: str | None = None, secret: str | None = SECRET
    ) -> dict[str, str]:
        """Return the headers GitHub sends for this body, signed with `secret` unless None."""
        headers = {
            EVENT_HEADER: self.event,
            DELIVERY_HEADER: delivery_id or str(uuid.uuid4()),
            "Content-Type": JSON_TYPE,
            "User-Agent": "GitHub-Hookshot/044aadd",
            "X-GitHub-Hook-ID": "109948940",
        }
        if secret is not None:
            headers[SIGNATURE_HEADER] = sign(self.body, secret)
        return headers

    def payload(self) -> dict[str, object]:
        """Return the decoded payload."""
        value = json.loads(self.body)
        assert isinstance(value, dict)
        return value


def _from_project(event: str, action: str | None) -> Sample | None:
    try:
        from bot.ops.fixtures import load_deliveries, scenarios_dir

        folders = sorted(p for p in scenarios_dir().iterdir() if p.is_dir())
        deliveries = load_deliveries(folders)
    except (ImportError, ValueError):
        return None
    for d in deliveries:
        if d.event == event and d.payload().get("action") == action:
            return Sample(event, d.body)
    return None


@functools.cache
def recorded(event: str, action: str | None = None) -> Sample:
    """Return a real delivery of `event` (with `action`): the project's fixtures first."""
    found = _from_project(event, action)
    if found is not None:
        return found
    path = SHARED_PAYLOADS / event / f"{action or 'event'}.1.json"
    payload = json.loads(path.read_text(encoding="utf-8"))
    return Sample(event, json.dumps(payload, separators=(",", ":")).encode())


@dataclass
class Running:
    """A service running in this loop on a free loopback port."""

    service: Service
    base: str
    stop: asyncio.Event
    task: asyncio.Task[int]

    async def stopped(self) -> int:
        """Ask the service to stop (as SIGTERM does) and return its exit code."""
        self.stop.set()
        return await asyncio.wait_for(self.task, 10)


@asynccontextmanager
async def running(settings: Settings, functions: Iterable[Function]) -> AsyncIterator[Running]:
    """Run a role=all service until the block ends (or it was stopped inside)."""
    service = Service(settings, "all", build_store(settings), functions, metrics=Metrics())
    port, stop = free_port(), asyncio.Event()
    task = asyncio.create_task(service.run("127.0.0.1", port, stop))
    run = Running(service, f"http://127.0.0.1:{port}", stop, task)
    try:
        await wait_until_up(run.base)
        yield run
    finally:
        if not task.done():
            await run.stopped()
        await service.store.close()
