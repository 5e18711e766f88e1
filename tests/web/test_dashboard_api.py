"""The dashboard's JSON API over real HTTP: events with their runs, filtered runs, a run, a PR."""

from __future__ import annotations

import asyncio

import httpx

from bot.prs.mapping import ThreadRecord, ThreadStore
from bot.runtime import Event
from tests.web.dashboard_harness import (
    FLAKY,
    GREET,
    NAP,
    SLEEPER,
    dashboard,
    hello,
    settle,
)


async def test_events_say_what_each_made(redis_url: str) -> None:
    async with dashboard(redis_url) as (run, _):
        await run.service.runtime.send([hello(1), Event(name="test/nobody", id="lonely")])
        for _ in range(2):  # GitHub redelivering the same delivery id: answered duplicate
            [again] = await run.service.runtime.send([hello(1)])
            assert again.status == "duplicate"
        await settle(run)
        async with httpx.AsyncClient(base_url=run.base) as client:
            page = (await client.get("/api/events")).json()
            shown = (await client.get("/ui/events")).text
    by_id = {e["id"]: e for e in page["events"]}
    assert (by_id["hello-1"]["duplicates"], by_id["lonely"]["duplicates"]) == (2, 0)
    assert "duplicate</span> ×2" in shown
    assert by_id["lonely"]["outcome"] == "ignored"
    assert by_id["lonely"]["runs"] == []
    made = by_id["hello-1"]
    assert (made["outcome"], made["pr"], made["name"]) == ("queued", "o/r#1", "test/hello")
    assert sorted((r["function"], r["status"]) for r in made["runs"]) == [
        (FLAKY, "failed"),
        (GREET, "completed"),
    ]
    # The failure event the failed run emitted is recorded too, about the same PR.
    failure = next(e for e in page["events"] if e["name"] == "prbot/function.failed")
    assert failure["pr"] == "o/r#1"


async def test_runs_filter_by_status_function_and_pr(redis_url: str) -> None:
    async with dashboard(redis_url) as (run, _):
        await run.service.runtime.send([hello(1, pr=1), hello(2, pr=2), hello(3, pr=2)])
        await settle(run)
        async with httpx.AsyncClient(base_url=run.base) as client:

            async def ids(**params: str | int) -> list[tuple[str, str, str | None]]:
                # Runs made in the same millisecond have no order of their own: sort.
                response = await client.get("/api/runs", params=params)
                assert response.status_code == 200, response.text
                runs = response.json()["runs"]
                return sorted((r["function"], r["event"], r["pr"]) for r in runs)

            assert await ids(status="failed") == [
                (FLAKY, "hello-1", "o/r#1"),
                (FLAKY, "hello-2", "o/r#2"),
                (FLAKY, "hello-3", "o/r#2"),
            ]
            assert [e for _, e, _ in await ids(function=GREET)] == ["hello-1", "hello-2", "hello-3"]
            assert await ids(function=GREET, pr="o/r#1") == [(GREET, "hello-1", "o/r#1")]
            assert await ids(function=GREET, pr="o/r/2") == await ids(function=GREET, pr="o/r#2")
            assert await ids(status="completed", function=FLAKY) == []
            assert (await client.get("/api/runs", params={"pr": "nonsense"})).status_code == 422
            assert (await client.get("/api/runs", params={"status": "odd"})).status_code == 422
            assert (await client.get("/api/runs", params={"limit": 999})).status_code == 422


async def test_pages_are_bounded_and_continue_where_they_stopped(redis_url: str) -> None:
    async with dashboard(redis_url) as (run, _):
        await run.service.runtime.send([hello(n) for n in range(7)])
        await settle(run)
        async with httpx.AsyncClient(base_url=run.base) as client:
            first = (await client.get("/api/runs", params={"function": GREET, "limit": 3})).json()
            params = {"function": GREET, "limit": 3, "cursor": first["next"]}
            second = (await client.get("/api/runs", params=params)).json()
            params["cursor"] = second["next"]
            third = (await client.get("/api/runs", params=params)).json()
            events = (await client.get("/api/events", params={"limit": 4})).json()
            rest = (await client.get("/api/events", params={"cursor": events["next"]})).json()
    pages = [first, second, third]
    assert [len(p["runs"]) for p in pages] == [3, 3, 1]
    seen = [r["event"] for p in pages for r in p["runs"]]
    assert sorted(seen) == [f"hello-{n}" for n in range(7)]  # each once, none left out
    assert third["next"] is None
    assert sum(p["scanned"] for p in pages) == 14  # every run (greet and flaky) looked at once
    assert len(events["events"]) == 4
    both = [e["id"] for e in events["events"] + rest["events"]]
    assert len(both) == len(set(both)) == 7 + 7  # every hello and every failure event, once
    assert rest["next"] is None


async def test_a_run_has_its_steps_output_and_event(redis_url: str) -> None:
    async with dashboard(redis_url) as (run, _):
        [sent] = await run.service.runtime.send([hello(1, who="hubot")])
        await settle(run)
        async with httpx.AsyncClient(base_url=run.base) as client:
            runs = (await client.get("/api/runs")).json()["runs"]
            greet = next(r for r in runs if r["function"] == GREET)
            flaky = next(r for r in runs if r["function"] == FLAKY)
            detail = (await client.get(f"/api/runs/{greet['id']}")).json()
            failed = (await client.get(f"/api/runs/{flaky['id']}")).json()
            missing = await client.get("/api/runs/no-such-run")
    assert greet["id"] in sent.run_ids
    assert [(s["step"], s["status"], s["attempt"]) for s in detail["steps"]] == [
        ("say", "ok", 1),
        ("end", "completed", None),
    ]
    say = detail["steps"][0]
    assert '"said":"hello hubot"' in say["output"]
    assert say["start_ms"] <= say["end_ms"] and say["duration_ms"] >= 0
    assert detail["output"] == '"hello hubot"'
    assert detail["source"]["id"] == "hello-1" and detail["pr"] == "o/r#1"
    assert detail["duration_ms"] >= 0 and detail["attempts"] == 1
    assert failed["status"] == "failed"
    assert "the first try always fails" in failed["error"]
    assert failed["steps"][-1]["step"] == "check" and failed["steps"][-1]["status"] == "failed"
    assert missing.status_code == 404


async def test_a_sleeping_run_says_until_when(redis_url: str) -> None:
    async with dashboard(redis_url) as (run, _):
        nap = Event(name=NAP, id="nap-1", data={"repo": "o/r", "number": 5})
        await run.service.runtime.send([nap])
        async with httpx.AsyncClient(base_url=run.base) as client:
            for _ in range(200):
                runs = (await client.get("/api/runs", params={"function": SLEEPER})).json()
                if runs["runs"] and runs["runs"][0]["status"] == "sleeping":
                    break
                await asyncio.sleep(0.02)
            detail = (await client.get(f"/api/runs/{runs['runs'][0]['id']}")).json()
    assert detail["status"] == "sleeping"
    assert detail["waiting"] == "sleeps (nap)"
    hour_ms = 3_600_000
    assert detail["next_at_ms"] - detail["created_ms"] >= hour_ms - 1_000
    assert detail["steps"][-1]["until_ms"] == detail["next_at_ms"]


async def test_a_pr_has_its_card_and_runs_in_order(redis_url: str) -> None:
    async with dashboard(redis_url) as (run, _):
        for event in (hello(1, pr=9), hello(2, pr=3), hello(3, pr=9)):
            await run.service.runtime.send([event])
            await asyncio.sleep(0.005)  # a later millisecond: the runs' order is theirs
        await settle(run)
        record = ThreadRecord(thread_id=77, channel_id=5, guild_id=3, name="#9 Fix it",
                              state="merged", review="approved", archived=True)  # fmt: skip
        await ThreadStore(run.service.store).put("o/r#9", record)
        async with httpx.AsyncClient(base_url=run.base) as client:
            view = (await client.get("/api/prs/o/r/9")).json()
            empty = (await client.get("/api/prs/o/r/404")).json()
    assert view["url"] == "https://github.com/o/r/pull/9"
    assert view["card"] == {
        "thread_id": 77, "channel_id": 5, "name": "#9 Fix it", "state": "merged",
        "review": "approved", "archived": True, "locked": False, "forum": False,
        "guild_id": 3, "link": "https://discord.com/channels/3/77",
    }  # fmt: skip
    assert [r["event"] for r in view["runs"]] == ["hello-1", "hello-1", "hello-3", "hello-3"]
    created = [r["created_ms"] for r in view["runs"]]
    assert created == sorted(created)
    assert view["complete"] is True
    assert (empty["card"], empty["runs"]) == (None, [])
