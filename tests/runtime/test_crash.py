"""SIGKILL a real worker process mid-run: another resumes it after its last completed step."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.runtime import Event, Store, run_id_for
from tests.runtime.crash_worker import build

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def worker_process(redis_url: str, prefix: str) -> Iterator[subprocess.Popen[bytes]]:
    """Start a crash-test worker process; kill it on the way out."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.runtime.crash_worker", redis_url, prefix], cwd=ROOT
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


async def wait_for(store: Store, field: str, value: int, timeout_s: float = 20) -> None:
    """Poll the crash-test counter until `field` reaches `value`."""
    key = store.keys.data("crash-test")
    async with asyncio.timeout(timeout_s):
        while int(await store.redis.hget(key, field) or 0) < value:
            await asyncio.sleep(0.02)


@pytest.fixture
async def crash_store(real_store: Store) -> AsyncIterator[Store]:
    """Yield the real store (the crash test needs a server several processes share)."""
    yield real_store


@pytest.mark.slow
async def test_sigkill_mid_run_resumes_with_completed_steps_run_once(
    crash_store: Store, redis_url: str
) -> None:
    store = crash_store
    await build(store).send([Event(name="t/crash", id="c1")])
    counter = store.keys.data("crash-test")
    with worker_process(redis_url, store.keys.prefix) as first:
        await wait_for(store, "three:started", 1)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    await store.redis.hset(counter, "go", "1")
    with worker_process(redis_url, store.keys.prefix):
        await wait_for(store, "three:done", 1)
        run_key = store.keys.run(run_id_for("c1", "crashy"))
        async with asyncio.timeout(10):
            while await store.redis.hget(run_key, "status") != "completed":
                await asyncio.sleep(0.02)
    counts = await store.redis.hgetall(counter)
    assert counts["one:started"] == counts["one:done"] == "1"
    assert counts["two:started"] == counts["two:done"] == "1"
    assert counts["three:started"] == "2"  # interrupted once, then run again to completion
    assert counts["three:done"] == "1"
    state = await store.redis.hgetall(run_key)
    assert state["abandoned"] == "1"
