"""The webhook secret, the Discord token and delivery bodies never reach the logs."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from bot.github.webhooks import sign
from bot.runtime import Context, Runtime, Store, Worker, function
from bot.settings import load_settings
from bot.web.app import create_app
from bot.web.metrics import Metrics
from bot.web.receiver import LogBudget
from tests.web import DISCORD_TOKEN, SECRET, recorded, running

URL = "/webhooks/github"
MARKER = "body-marker-7f3a9c"  # stands for whatever private text a payload carries
ENV = {"GITHUB_WEBHOOK_SECRET": SECRET, "DISCORD_TOKEN": DISCORD_TOKEN}


@function("t", "github/*")
async def anything(ctx: Context) -> None:
    """Make runs for every delivery so the runtime logs too."""


def _requests() -> list[tuple[bytes, dict[str, str]]]:
    opened = recorded("pull_request", "opened")
    payload = {**opened.payload(), "marker": MARKER}
    body = json.dumps(payload).encode()
    good = {**opened.headers("d-good"), "X-Hub-Signature-256": sign(body, SECRET)}
    broken = f'{{"marker": "{MARKER}", '.encode()
    return [
        (body, good),
        (body, good),  # duplicate
        (body, {**good, "X-Hub-Signature-256": sign(body, "wrong")}),
        (body, {**good, "X-Hub-Signature-256": SECRET}),  # a confused sender puts the secret here
        (broken, {**good, "X-Hub-Signature-256": sign(broken, SECRET)}),
        (b"[" + MARKER.encode() + b"]", {**good, "X-GitHub-Event": ""}),
    ]


def _assert_clean(text: str) -> None:
    assert SECRET not in text
    assert DISCORD_TOKEN not in text
    assert MARKER not in text


async def test_receiver_logs_and_answers_carry_no_secret(
    real_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    runtime = Runtime(real_store, [anything])
    app = create_app(load_settings(ENV), runtime, metrics=Metrics())
    transport = httpx.ASGITransport(app=app)
    answers = []
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for body, headers in _requests():
            answers.append((await client.post(URL, content=body, headers=headers)).text)
        answers.append((await client.get("/metrics")).text)
    await Worker(runtime).run_until_idle()
    assert len([r for r in caplog.records if r.name == "bot.web.app"]) == 6  # one line per delivery
    _assert_clean(caplog.text)
    _assert_clean("\n".join(answers))


async def test_serve_logs_carry_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with running(load_settings(ENV), [anything]) as run:
        async with httpx.AsyncClient(base_url=run.base) as client:
            for body, headers in _requests():
                await client.post(URL, content=body, headers=headers)
        assert await run.stopped() == 0
    assert "prbot stopped" in caplog.text
    _assert_clean(caplog.text)


async def test_a_flood_of_deliveries_is_logged_within_a_budget(
    real_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.web.app")
    app = create_app(load_settings(ENV), Runtime(real_store, [anything]), metrics=Metrics())
    now = [0.0]
    budget = LogBudget(rate=1.0, burst=3.0, clock=lambda: now[0])
    app.state.receiver.log_budget = budget
    opened = recorded("pull_request", "opened")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for n in range(10):  # all within one instant: three lines, seven counted
            await client.post(URL, content=opened.body, headers=opened.headers(f"d-{n}"))
        forged = {**opened.headers("d-forged"), "X-Hub-Signature-256": sign(b"x", SECRET)}
        await client.post(URL, content=opened.body, headers=forged)  # refused: always logged
        now[0] = 2.0  # two seconds later, two lines' worth again
        await client.post(URL, content=opened.body, headers=opened.headers("d-late"))
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.web.app"]
    accepted = [line for line in lines if "status=202" in line]
    assert [line.split()[1] for line in accepted] == [
        "delivery=d-0", "delivery=d-1", "delivery=d-2", "delivery=d-late"
    ]  # fmt: skip
    assert accepted[-1].endswith("(+7 more accepted since the last line, counted in /metrics)")
    assert sum("status=401" in line for line in lines) == 1
