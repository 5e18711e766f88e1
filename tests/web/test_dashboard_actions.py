"""Rerun, cancel and replay from the dashboard's forms, over real HTTP on a real Redis."""

from __future__ import annotations

import asyncio
from urllib.parse import unquote

import httpx

from bot.runtime import Event
from tests.web.dashboard_harness import (
    FLAKY,
    GREET,
    NAP,
    SLEEPER,
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
            assert "Rerun" in page.text and "Cancel" not in page.text  # no cancel_run yet
            answer = await client.post(f"/ui/runs/{failed['id']}/rerun",
                                       data={"csrf": csrf_of(page.text)})  # fmt: skip
            assert answer.status_code == 303
            location = answer.headers["location"]
            new_id = location.split("/ui/runs/")[1].split("?")[0]
            assert "rerun of" in unquote(location)
            await settle(run)
            rerun = (await client.get(f"/api/runs/{new_id}")).json()
            shown = await client.get(location)
    assert new_id != failed["id"]
    assert (rerun["function"], rerun["status"], rerun["replay"]) == (FLAKY, "completed", True)
    assert rerun["source"]["id"].startswith("hello-1.replay-")
    assert rerun["source"]["name"] == "test/hello" and rerun["pr"] == "o/r#1"
    # greet, which had succeeded on the same event, did not run (and post) again.
    assert calls.greet == ["hello-1"]
    assert calls.flaky == ["hello-1", rerun["source"]["id"]]
    assert "rerun of" in shown.text and "completed" in shown.text


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


async def test_cancel_says_this_runtime_cannot(redis_url: str) -> None:
    # TODO(runtime): when the runtime's cancel_run lands, this becomes "cancel stops the run".
    async with dashboard(redis_url) as (run, _):
        await run.service.runtime.send([hello(1)])
        await settle(run)
        async with httpx.AsyncClient(base_url=run.base) as client:
            failed = await _failed_flaky(client)
            token = csrf_of((await client.get(f"/ui/runs/{failed['id']}")).text)
            answer = await client.post(f"/ui/runs/{failed['id']}/cancel", data={"csrf": token})
    assert answer.status_code == 501 and "cancel_run" in answer.text


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
