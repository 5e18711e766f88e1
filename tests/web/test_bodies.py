"""Bodies read before their signature is checked are bounded across requests, over real sockets.

A slow sender that declares a large body holds its share of the budget; past the budget a
request is answered 503 + Retry-After without its body being read, while ordinary deliveries
still get in; once the slow body is done, large bodies are taken again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest

from bot.settings import load_settings
from bot.web.bodies import LARGE_BODY_BYTES, BodyBudget, BodyBudgetMiddleware, declared_size
from tests.web import SECRET, Running, recorded, running

URL = "/webhooks/github"
LARGE = 1_300_000  # over 1 MiB; two of them pass the large share of a 2 MiB budget


@dataclass
class Raw:
    """One raw HTTP/1.1 connection."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def status(self, timeout_s: float = 5) -> tuple[int, str]:
        """Read the response head; return the status and the raw head."""
        async with asyncio.timeout(timeout_s):
            head = (await self.reader.readuntil(b"\r\n\r\n")).decode()
        return int(head.split(" ", 2)[1]), head.lower()

    async def close(self) -> None:
        """Close the connection."""
        self.writer.close()
        await self.writer.wait_closed()


async def post_head(base: str, headers: dict[str, str], body: bytes = b"") -> Raw:
    """Open a connection and send a POST's head (and the start of its body)."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    lines = [f"POST {URL} HTTP/1.1", f"Host: {host}", "X-GitHub-Event: pull_request"]
    lines += ["X-GitHub-Delivery: raw", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()
    return Raw(reader, writer)


def budget_of(run: Running) -> BodyBudget:
    """Return the app's body budget (the middleware is built on the first request)."""
    layer = run.service.app.middleware_stack
    while not isinstance(layer, BodyBudgetMiddleware):
        layer = layer.app  # type: ignore[union-attr]
    return layer.budget


async def until(check: Callable[[], bool], timeout_s: float = 5) -> None:
    """Wait until `check()` is true."""
    async with asyncio.timeout(timeout_s):
        while not check():
            await asyncio.sleep(0.005)


@pytest.fixture
async def server() -> AsyncIterator[Running]:
    """Run the real service on a loopback port with a 2 MiB body budget."""
    settings = load_settings({"GITHUB_WEBHOOK_SECRET": SECRET, "WEBHOOK_BODIES_MAX_MB": "2"})
    async with running(settings, []) as run:
        yield run


async def test_large_bodies_past_the_budget_get_503_and_small_ones_still_get_in(
    server: Running,
) -> None:
    budget = budget_of(server)
    slow = await post_head(server.base, {"Content-Length": str(LARGE)}, b"{" + b" " * 999)
    await until(lambda: budget.large_in_use == LARGE)

    second = await post_head(server.base, {"Content-Length": str(LARGE)})
    status, head = await second.status()
    assert status == 503 and "retry-after: 5" in head and "connection: close" in head
    await second.close()
    chunked = await post_head(server.base, {"Transfer-Encoding": "chunked"})
    assert (await chunked.status())[0] == 503  # unknown size: counted as the 25 MB maximum
    await chunked.close()

    opened = recorded("pull_request", "opened")
    async with httpx.AsyncClient(base_url=server.base) as client:
        small = await client.post(URL, content=opened.body, headers=opened.headers())
        assert small.status_code == 202  # ordinary deliveries are not starved
        slow.writer.write(b" " * (LARGE - 1000))
        await slow.writer.drain()
        assert (await slow.status())[0] == 401  # read whole, then refused: it is unsigned
        await slow.close()
        await until(lambda: budget.in_use == 0)
        again = await client.post(URL, content=b"{" + b" " * (LARGE - 1), headers={
            "X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "again",
            "Content-Type": "application/json"})  # fmt: skip
        assert again.status_code == 401  # admitted again once the slow body was done
        metrics = (await client.get("/metrics")).text
    assert 'prbot_webhook_deliveries_total{event="-",status="busy"} 2.0' in metrics


def test_the_budget_keeps_room_for_ordinary_deliveries() -> None:
    budget = BodyBudget(limit_bytes=4 * LARGE_BODY_BYTES)
    assert budget.take(3 * LARGE_BODY_BYTES)  # the large share: 3/4
    assert not budget.take(LARGE_BODY_BYTES + 1)  # another large one does not fit
    assert budget.take(LARGE_BODY_BYTES // 2) and budget.take(LARGE_BODY_BYTES // 2)
    assert not budget.take(1)  # the whole budget is spent
    budget.give_back(3 * LARGE_BODY_BYTES)
    assert (budget.in_use, budget.large_in_use) == (LARGE_BODY_BYTES, 0)


def test_declared_size() -> None:
    def scope(*headers: tuple[bytes, bytes]) -> dict[str, object]:
        return {"type": "http", "headers": list(headers)}

    assert declared_size(scope(), 100) == 0
    assert declared_size(scope((b"content-length", b"42")), 100) == 42
    assert declared_size(scope((b"content-length", b"4200")), 100) == 100
    assert declared_size(scope((b"transfer-encoding", b"chunked")), 100) == 100
    assert declared_size(scope((b"content-length", b"x1")), 100) == 0
