"""`prbot runs` and `prbot runs show`, run as the real command against a real Redis."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.runtime import (
    Context,
    Event,
    ManualClock,
    NonRetriableError,
    Store,
    Worker,
    function,
    run_id_for,
)
from bot.runtime.inspect import age
from tests.runtime.test_contract import make_runtime

ROOT = Path(__file__).resolve().parents[2]


def prbot(redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot` against the test Redis and the test key prefix."""
    env = {**os.environ, "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": "test"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "--env-file", "/nonexistent", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


async def seed(store: Store) -> tuple[str, str]:
    """Make one completed and one failed run; return their ids."""

    async def ok() -> str:
        return "fine"

    async def broken() -> None:
        raise NonRetriableError("Discord said 50035 Invalid Form Body")

    @function("good", "t/good")
    async def good(ctx: Context) -> None:
        await ctx.step.run("post", ok)

    @function("bad", "t/bad")
    async def bad(ctx: Context) -> None:
        await ctx.step.run("first", ok)
        await ctx.step.run("post", broken)

    rt = make_runtime(store, good, bad, clock=ManualClock(start_ms=1_000))
    await rt.send([Event(name="t/good", id="g1"), Event(name="t/bad", id="b1")])
    await Worker(rt).run_until_idle()
    return run_id_for("g1", "good"), run_id_for("b1", "bad")


async def test_runs_lists_and_filters(real_store: Store, redis_url: str) -> None:
    good, bad = await seed(real_store)
    out = prbot(redis_url, "runs")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["RUN", "FUNCTION", "EVENT", "STATUS", "ATTEMPTS", "AGE"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows[good][1:5] == ["good", "g1", "completed", "1"]
    assert rows[bad][1:5] == ["bad", "b1", "failed", "1"]
    failed = prbot(redis_url, "runs", "--failed").stdout.splitlines()[1:]
    assert [line.split()[0] for line in failed] == [bad]
    only_good = prbot(redis_url, "runs", "--function", "good").stdout.splitlines()[1:]
    assert [line.split()[0] for line in only_good] == [good]


async def test_runs_show_prints_the_step_timeline(real_store: Store, redis_url: str) -> None:
    _, bad = await seed(real_store)
    out = prbot(redis_url, "runs", "show", bad)
    assert out.returncode == 0, out.stderr
    assert "status    failed" in out.stdout
    assert "error     NonRetriableError: Discord said 50035 Invalid Form Body" in out.stdout
    steps = [line.split()[1:3] for line in out.stdout.splitlines() if line.startswith("+")]
    assert steps == [["first", "ok"], ["post", "failed"]]
    missing = prbot(redis_url, "runs", "show", "nope")
    assert missing.returncode == 1
    assert "no run nope" in missing.stderr


def test_age_units() -> None:
    assert [age(ms) for ms in (0, 59_999, 60_000, 7_200_000, 3 * 86_400_000)] == [
        "0s", "59s", "1m", "2h", "3d",
    ]  # fmt: skip
