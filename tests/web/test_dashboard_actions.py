"""Rerun, cancel and replay from the dashboard's forms, over real HTTP on a real Redis."""

from __future__ import annotations

import asyncio
from urllib.parse import unquote

import httpx

from bot.runtime import Event
from tests.web.dashboard_harness import (
    ANSWER,
    ASK,
    FLAKY,
    GREET,
    NAP,
    SLEEPER,
    WAITER,
    csrf_of,
    dashboard,
    hello,
    settle,
)


async def _failed_flaky(client: httpx.AsyncClient) -> dict[str, object]:
    runs = (await client.get("/api/runs", params={"status": "failed"})).json()["runs"]
    [run] = [r for r in runs if r["function"] == FLAKY]
    assert isinstance(run, dict)
    return run


async def test_rerun_runs_only_that_function_again(redis_url: str) -> None:
    async with dashboard(redis_url) as (run, calls):
        await run.service.runtime.send([hello(1)])
        await settle(run)
        async with httpx.AsyncClient(base_url=run.base) as client:
            failed = await _failed_flaky(client)
            page = await client.get(f"/ui/runs/{failed['id']}")
            assert "Rerun" in page.text and "Cancel" not in page.text  # it has finished
            answer = await client.post(f"/ui/runs/{failed['id']}/rerun",
                                       data={"csrf": csrf_of(page.text)})  # fmt: skip
            assert answer.status_code == 303
            location = answer.headers["location"]
            new_id = location.split("/ui/runs/")[1].split("?")[0]
            assert "rerun of" in unquote(location)
            await settle(run)
            rerun = (await client.get(f"/api/runs/{new_id}")).json()
            shown = await client.get(location)
    assert new_id == f"{failed['id']}-r1"
    assert (rerun["function"], rerun["status"], rerun["rerun_of"]) == (
        FLAKY,
        "completed",
        failed["id"],
    )
    assert rerun["source"]["id"] == "hello-1"  # the same stored event, not a copy
    assert rerun["source"]["name"] == "test/hello" and rerun["pr"] == "o/r#1"
    # greet, which had succeeded on the same event, did not run (and post) again.
    assert calls.greet == ["hello-1"]
    assert calls.flaky == ["hello-1", "hello-1"]
    assert "rerun of" in shown.text and "completed" in shown.text
    assert f'href="/ui/runs/{failed["id"]}"' in shown.text  # the run it repeats


async def test_an_unfinished_run_is_not_rerun(redis_url: str) -> None:
    async with dashboard(redis_url) as (run, _):
        await run.service.runtime.send(
            [Event(name=NAP, id="nap", data={"repo": "o/r", "number": 1})]
        )
        async with httpx.AsyncClient(base_url=run.base) as client:
            for _ in range(200):
                runs = (await client.get("/api/runs", params={"function": SLEEPER})).json()["runs"]
                if runs and runs[0]["status"] == "sleeping":
                    break
                await asyncio.sleep(0.02)
            page = await client.get(f"/ui/runs/{runs[0]['id']}")
            assert "Rerun" not in page.text
            answer = await client.post(f"/ui/runs/{runs[0]['id']}/rerun",
                                       data={"csrf": csrf_of(page.text)})  # fmt: skip
            after = (await client.get("/api/runs")).json()["runs"]
    assert answer.status_code == 409 and "still sleeping" in answer.text
    assert len(after) == 1


async def _waiting_run(client: httpx.AsyncClient) -> str:
    for _ in range(200):
        runs = (await client.get("/api/runs", params={"function": WAITER})).json()["runs"]
        if runs and runs[0]["status"] == "waiting":
            return str(runs[0]["id"])
        await asyncio.sleep(0.02)
    raise AssertionError("the waiter never waited")


async def test_a_waiting_run_says_what_for_and_cancel_stops_it(redis_url: str) -> None:
    async with dashboard(redis_url) as (run, _):
        await run.service.runtime.send(
            [Event(name=ASK, id="ask", data={"repo": "o/r", "number": 7})]
        )
        async with httpx.AsyncClient(base_url=run.base) as client:
            run_id = await _waiting_run(client)
            page = await client.get(f"/ui/runs/{run_id}")
            detail = (await client.get(f"/api/runs/{run_id}")).json()
            answer = await client.post(f"/ui/runs/{run_id}/cancel",
                                       data={"csrf": csrf_of(page.text)})  # fmt: skip
            shown = await client.get(answer.headers["location"])
            after = (await client.get(f"/api/runs/{run_id}")).json()
            again = await client.post(f"/ui/runs/{run_id}/cancel",
                                      data={"csrf": csrf_of(page.text)})  # fmt: skip
            # An answer now finds no one waiting: the cancelled run never resumes.
            await run.service.runtime.send(
                [Event(name=ANSWER, id="answer", data={"repo": "o/r", "number": 7})]
            )
            await settle(run)
            final = (await client.get(f"/api/runs/{run_id}")).json()
    assert detail["waiting"] == f"waits for {ANSWER} where data.number = 7"
    assert 0 <= detail["next_at_ms"] - detail["created_ms"] - 3_600_000 < 5_000  # the timeout
    assert f"waits for {ANSWER} where data.number = 7 — until" in page.text
    assert f"waits for {ANSWER} until" in page.text  # the timeline entry of the wait
    assert "Cancel</button>" in page.text and "Rerun" not in page.text
    assert answer.status_code == 303
    assert "cancelled" in unquote(answer.headers["location"])
    assert (after["status"], after["cancelled_by"], after["waiting"]) == (
        "cancelled", "cancel_run", None,
    )  # fmt: skip
    assert "Cancelled by" in shown.text and "Cancel</button>" not in shown.text
    assert "Rerun" in shown.text  # a cancelled run may run again
    assert again.status_code == 303  # cancelling a cancelled run changes nothing
    assert (final["status"], final["output"]) == ("cancelled", None)


async def test_a_finished_run_is_not_cancelled(redis_url: str) -> None:
    async with dashboard(redis_url) as (run, _):
        await run.service.runtime.send([hello(1)])
        await settle(run)
        async with httpx.AsyncClient(base_url=run.base) as client:
            failed = await _failed_flaky(client)
            token = csrf_of((await client.get(f"/ui/runs/{failed['id']}")).text)
            answer = await client.post(f"/ui/runs/{failed['id']}/cancel", data={"csrf": token})
            unknown = await client.post("/ui/runs/nope/cancel", data={"csrf": token})
            after = (await client.get(f"/api/runs/{failed['id']}")).json()
    assert answer.status_code == 409 and "already failed, nothing to cancel" in answer.text
    assert after["status"] == "failed"
    assert unknown.status_code == 404


async def test_replay_the_delivery_runs_every_function_again(redis_url: str) -> None:
    async with dashboard(redis_url) as (run, calls):
        await run.service.runtime.send([hello(1, who="hubot")])
        await settle(run)
        async with httpx.AsyncClient(base_url=run.base) as client:
            page = await client.get("/ui/events/hello-1")
            assert "hubot" in page.text  # the stored payload is shown
            answer = await client.post("/ui/events/hello-1/replay",
                                       data={"csrf": csrf_of(page.text)})  # fmt: skip
            assert answer.status_code == 303
            new_id = unquote(answer.headers["location"].split("/ui/events/")[1].split("?")[0])
            await settle(run)
            event = (await client.get(f"/api/events/{new_id}")).json()
            unknown = await client.post("/ui/events/nope/replay", data={"csrf": csrf_of(page.text)})
    assert new_id.startswith("hello-1.replay-")
    assert event["replay"] is True and event["outcome"] == "queued"
    assert sorted((r["function"], r["status"]) for r in event["runs"]) == [
        (FLAKY, "completed"),
        (GREET, "completed"),
    ]
    assert calls.greet == ["hello-1", new_id]
    assert unknown.status_code == 404
