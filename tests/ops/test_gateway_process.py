"""`prbot serve --role gateway` as a real process against the fake gateway and the test Redis."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import httpx
import pytest

from bot.prs.mapping import ThreadRecord, ThreadStore
from bot.runtime import Store
from tests.deploy import ROOT
from tests.fakes.gateway_world import eventually
from tests.loopback import free_port, wait_until_up
from tests.ops.test_gateway_role import PR, Fakes, fakes

__all__ = ["fakes"]


async def ready(base: str) -> bool:
    """Tell whether the process says its gateway session is up."""
    async with httpx.AsyncClient(base_url=base) as client:
        return (await client.get("/readyz")).status_code == 200


@pytest.mark.slow
async def test_a_gateway_process_records_pr_thread_messages_and_stops_on_sigterm(
    fakes: Fakes, real_store: Store, redis_url: str
) -> None:
    await ThreadStore(real_store).put(
        PR, ThreadRecord(thread_id=fakes.pr_thread, channel_id=fakes.channel.id)
    )
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME")}
    env = clean | {
        "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": "test", "DISCORD_TOKEN": fakes.rest.token,
        "DISCORD_API_BASE": fakes.rest.api_base, "DISCORD_GATEWAY_URL": fakes.gw.url,
        "PYTHONPATH": str(ROOT),
    }  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "serve", "--role", "gateway", "--port", str(port),
        cwd=str(ROOT), env=env, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_until_up(base)
        await asyncio.wait_for(_until_ready(base), 20)
        sent = fakes.gw.message_create(
            fakes.pr_thread, "from a real process", author=fakes.gw.user()
        )
        event_id = f"discord-msg-{sent['id']}-c"

        async def recorded() -> bool:
            raw, _ = await real_store.reads.event(event_id)
            return raw is not None

        for _ in range(200):
            if await recorded():
                break
            await asyncio.sleep(0.05)
        assert await recorded()
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr_bytes = await asyncio.wait_for(process.communicate(), 30)
    stderr = stderr_bytes.decode()
    assert process.returncode == 0, stderr
    assert "prbot serving role=gateway" in stderr and fakes.rest.token not in stderr
    await eventually(lambda: not fakes.gw.live)  # it closed its connection


async def _until_ready(base: str) -> None:
    while not await ready(base):
        await asyncio.sleep(0.05)
