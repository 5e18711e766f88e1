"""Accepted deliveries: recorded and queued by the receiver, planned by workers, in order, once.

On the real Redis and the embedded store (the `store` fixture runs each test on both).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest

from bot.runtime import (
    FUNCTION_FAILED,
    Context,
    Event,
    ManualClock,
    Runtime,
    Store,
    Worker,
    function,
    run_id_for,
)

seen: list[str] = []


@function("per-pr", "github/pull_request.*", concurrency_key=lambda e: str(e.data["pr"]))
async def per_pr(ctx: Context) -> str:
    """Note the order runs see their deliveries in."""
    seen.append(ctx.event.id)
    return ctx.event.id


@function("opened-only", "github/pull_request.*", concurrency_key=lambda e: str(e.data["pr"]))
async def opened_only(ctx: Context) -> str:
    """A second function on the same deliveries."""
    return "ok"


@function("fussy", "github/issues.*", concurrency_key=lambda e: e.data["missing"])
async def fussy(ctx: Context) -> str:
    """Its key reads a field the deliveries do not have: planning it raises."""
    return "never"


@function("issues", "github/issues.*")
async def issues(ctx: Context) -> str:
    """Planned even when another function on the same delivery cannot be."""
    return ctx.event.id


@function("waiter", "test/start")
async def waiter(ctx: Context) -> str:
    """Waits for a review that no function is triggered by."""
    got = await ctx.step.wait_for_event("review", event="github/review.done", timeout_s=60)
    seen.append("got " + got.id if got else "timed out")
    return "done"


FUNCTIONS = [per_pr, opened_only, fussy, issues, waiter]


def payload(pr: int) -> bytes:
    """Return a delivery's JSON text, as it came over the wire."""
    return json.dumps({"action": "opened", "pr": pr}).encode()


@pytest.fixture(autouse=True)
def forget_seen() -> None:
    """Start each test with no runs seen."""
    seen.clear()


def runtime_on(store: Store) -> Runtime:
    """Return a runtime on `store` with a manual clock."""
    return Runtime(store, FUNCTIONS, clock=ManualClock(1_000_000))


async def test_accepted_means_recorded_and_in_the_inbox_with_no_run_yet(store: Store) -> None:
    rt = runtime_on(store)
    result = await rt.accept("github/pull_request.opened", "d-1", payload(1), {"k": "v"})
    assert (result.status, result.run_ids) == ("queued", ())
    assert await store.reads.inbox(10) == [("d-1", (await store.reads.event("d-1"))[0])]
    record = json.loads((await store.reads.event("d-1"))[0] or "")
    assert record["event"]["name"] == "github/pull_request.opened"
    assert (record["event"]["data"], record["meta"]) == ({"action": "opened", "pr": 1}, {"k": "v"})
    assert await store.reads.run_page(0, 10) == []
    again = await rt.accept("github/pull_request.opened", "d-1", payload(1), {})
    assert again.status == "duplicate"
    assert await store.reads.inbox_depth() == 1


async def test_a_worker_plans_and_runs_them_in_the_order_they_came(store: Store) -> None:
    rt = runtime_on(store)
    ids = [f"d-{n}" for n in range(6)]
    for n, event_id in enumerate(ids):
        await rt.accept("github/pull_request.opened", event_id, payload(n % 2), {})
    done = await Worker(rt).run_until_idle()
    assert done == 12  # two functions each
    assert seen == ids
    assert await store.reads.inbox_depth() == 0


async def test_two_planners_at_once_plan_each_delivery_once_and_keep_the_order(
    store: Store,
) -> None:
    first, second = runtime_on(store), runtime_on(store)
    ids = [f"d-{n}" for n in range(40)]
    for event_id in ids:
        await first.accept("github/pull_request.opened", event_id, payload(7), {})
    while await store.reads.inbox_depth():
        await asyncio.gather(first.plan_inbox(limit=7), second.plan_inbox(limit=5))
    runs = await store.reads.run_page(0, 1000)
    assert len(runs) == len(set(runs)) == 80
    queue = await store.redis.lrange(store.keys.queue("key:7"), 0, -1)
    states = await store.reads.run_states([str(r) for r in queue])
    events = [s["event"] for s in states if s["fn"] == "per-pr"]
    assert events == ids  # the PR's queue holds its deliveries in the order they came


async def test_a_function_that_cannot_be_planned_is_reported_and_the_rest_still_run(
    store: Store,
) -> None:
    rt = runtime_on(store)
    await rt.accept("github/issues.opened", "d-issue", b'{"action": "opened"}', {})
    await rt.plan_inbox()
    states = await store.reads.run_states(await store.reads.run_page(0, 10))
    assert sorted(s["fn"] for s in states) == ["issues"]  # and no run of "fussy"
    failed, _ = await store.reads.event("failed-" + run_id_for("d-issue", "fussy"))
    assert failed is not None
    data = json.loads(failed)["event"]
    assert data["name"] == FUNCTION_FAILED
    assert data["data"]["function_id"] == "fussy"
    assert "could not plan" in data["data"]["error"] and "missing" in data["data"]["error"]
    assert await store.reads.inbox_depth() == 0


async def test_an_event_nothing_wants_is_recorded_and_ignored(store: Store) -> None:
    rt = runtime_on(store)
    result = await rt.accept("github/star.created", "d-star", b'{"action": "created"}', {})
    assert result.status == "ignored"
    assert (await store.reads.event("d-star"))[0] is not None
    assert await store.reads.inbox_depth() == 0
    assert (await rt.accept("github/star.created", "d-star", b"{}", {})).status == "duplicate"


async def test_an_event_a_run_waits_for_goes_through_the_inbox_and_resumes_it(
    store: Store,
) -> None:
    rt = runtime_on(store)
    worker = Worker(rt)
    await rt.send([Event(name="test/start", id="start")])
    await worker.run_until_idle()  # the run now waits for github/review.done
    result = await rt.accept("github/review.done", "d-review", b'{"action": "x"}', {})
    assert result.status == "queued"  # no function is triggered by it, but a run listens
    await worker.run_until_idle()
    state, _, _ = await store.reads.run(run_id_for("start", "waiter"))
    assert (state["status"], seen) == ("completed", ["got d-review"])


async def test_records_in_the_inbox_outlive_the_events_index(store: Store) -> None:
    store.limits = replace(store.limits, events_max=2)
    rt = runtime_on(store)
    ids = [f"d-{n}" for n in range(5)]
    for event_id in ids:
        await rt.accept("github/pull_request.opened", event_id, payload(3), {})
    assert await store.redis.zcard(store.keys.events) == 2  # trimmed, but the records are held
    await Worker(rt).run_until_idle()
    assert seen == ids


async def test_a_record_that_does_not_parse_is_taken_out_of_the_inbox_and_logged(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    rt = runtime_on(store)
    await rt.accept("github/pull_request.opened", "d-bad", payload(1), {})
    await rt.accept("github/pull_request.opened", "d-good", payload(2), {})
    await store.redis.set(store.keys.event("d-bad"), "not a record")
    assert await rt.plan_inbox() == 2
    assert await store.reads.inbox_depth() == 0
    states = await store.reads.run_states(await store.reads.run_page(0, 10))
    assert {s["event"] for s in states} == {"d-good"}  # the readable one still runs
    assert "d-bad has no readable record" in caplog.text
    assert await store.redis.keys(store.keys.recent_prefix + "*") == [
        store.keys.recent_prefix + "github/pull_request.opened"
    ]  # nothing is filed under an empty name
