"""Retry decisions: a step resumed in slices spends no retry, a counted wait does."""

from __future__ import annotations

import random

from bot.runtime import (
    Context,
    Event,
    ManualClock,
    RetryAfterError,
    Store,
    Worker,
    function,
    run_id_for,
)
from bot.runtime.policy import Backoff, Decision, decide
from tests.runtime.test_contract import make_runtime


def test_an_uncounted_retry_after_keeps_the_attempt_number() -> None:
    rng = random.Random(1)
    slice_ = RetryAfterError("scanned a slice", 0, counted=False)
    assert decide(slice_, 3, 3, 1_000, Backoff(), rng) == Decision(3, 1_000)
    limited = RetryAfterError("rate limited", 2)
    assert decide(limited, 2, 3, 1_000, Backoff(), rng) == Decision(3, 3_000)
    assert decide(limited, 3, 3, 1_000, Backoff(), rng).at_ms is None


async def test_a_step_done_in_many_slices_outlasts_its_retries(store: Store) -> None:
    slices: list[int] = []

    async def scan() -> int:
        slices.append(len(slices))
        if len(slices) <= 10:
            raise RetryAfterError("a slice done; continuing", 1, counted=False)
        return len(slices)

    @function("scan", "t/scan", retries=1)
    async def scanner(ctx: Context) -> int:
        return int(await ctx.step.run("scan", scan))

    clock = ManualClock()
    rt = make_runtime(store, scanner, clock=clock)
    await rt.send([Event(name="t/scan", id="s1")])
    for _ in range(11):
        await Worker(rt).run_until_idle()
        clock.advance(1)
    state = await store.redis.hgetall(store.keys.run(run_id_for("s1", "scan")))
    assert state["status"] == "completed" and state["output"] == "11"
