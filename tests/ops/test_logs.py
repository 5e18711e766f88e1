"""LOG_FORMAT=json: one JSON object per line carrying delivery id, run id, function, step,
duration and outcome; secrets blanked out in the message and in every field."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import httpx
import pytest

from bot.ops.logs import JsonFormatter, RedactSecrets
from bot.runtime import Context, Event, Runtime, Store, Worker, function
from bot.settings import load_settings
from bot.web.app import create_app
from bot.web.metrics import Metrics
from tests.web import SECRET, recorded

URL = "/webhooks/github"


def as_json(records: list[logging.LogRecord], logger: str) -> list[dict[str, Any]]:
    """Format the records of `logger` as prbot's JSON lines and parse them back."""
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in records if r.name == logger]
    return [json.loads(line) for line in lines]


def test_a_line_carries_its_context_and_never_a_secret() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecrets([SECRET]))
    logger = logging.getLogger("tests.deploy.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        context = {"delivery_id": f"d-{SECRET}", "run_id": "r1", "function": "f", "step": "s"}
        logger.warning("saw %s", SECRET, extra={**context, "outcome": "ok", "ms": 1.5})
        try:
            raise ValueError(SECRET)
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "saw ***" and first["delivery_id"] == "d-***"
    assert {k: first[k] for k in ("run_id", "function", "step", "outcome", "ms")} == {
        "run_id": "r1", "function": "f", "step": "s", "outcome": "ok", "ms": 1.5,
    }  # fmt: skip
    assert (first["level"], first["logger"]) == ("warning", "tests.deploy.json")
    assert "ValueError: ***" in second["error"]
    assert SECRET not in stream.getvalue()


def test_text_is_the_default() -> None:
    assert load_settings({}).log_format == "text"
    assert load_settings({"LOG_FORMAT": "json"}).log_format == "json"


async def test_webhook_lines_carry_delivery_event_status_outcome_and_duration(
    real_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = create_app(
        load_settings({"GITHUB_WEBHOOK_SECRET": SECRET}), Runtime(real_store, []), metrics=Metrics()
    )
    opened = recorded("pull_request", "opened")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        await client.post(URL, content=opened.body, headers=opened.headers("d-json"))
    [line] = as_json(caplog.records, "bot.web.app")
    assert line["delivery_id"] == "d-json" and line["event"] == "pull_request"
    assert (line["status"], line["outcome"]) == (202, "ignored")
    assert isinstance(line["ms"], float)


@function("logged", "t/logged")
async def logged(ctx: Context) -> str:
    """Run one step, so the run logs its start, its step and its end."""
    return await ctx.step.run("only", _nothing)


async def _nothing() -> str:
    return "x"


async def run_lines(store: Store, caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """Run one `logged` run for the event `e-json`; return the run logger's JSON lines."""
    caplog.set_level(logging.DEBUG)
    runtime = Runtime(store, [logged])
    await runtime.send([Event(name="t/logged", id="e-json")])
    assert await Worker(runtime).run_until_idle() == 1
    return as_json(caplog.records, "bot.runtime.run")


async def test_run_lines_carry_delivery_run_and_function(
    real_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    lines = await run_lines(real_store, caplog)
    assert len(lines) >= 2
    for line in lines:
        assert (line["delivery_id"], line["function"]) == ("e-json", "logged")
        assert len(line["run_id"]) > 0


async def test_step_and_end_lines_carry_step_duration_and_outcome(
    real_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    lines = await run_lines(real_store, caplog)
    step = next(line for line in lines if line.get("step") == "only")
    assert step["outcome"] == "ok" and isinstance(step["ms"], float)
    end = lines[-1]
    assert end["outcome"] == "completed" and isinstance(end["ms"], float)


def test_interaction_tokens_in_webhook_urls_are_blanked_out() -> None:
    url = "https://discord.com/api/v10/webhooks/123/aW50ZXJhY3Rpb24.tok/messages/@original"
    message = "%s %s has returned %s"
    record = logging.LogRecord(
        "discord.http", logging.DEBUG, __file__, 1, message, ("PATCH", url, 200), None
    )
    assert RedactSecrets([]).filter(record)
    assert record.getMessage() == (
        "PATCH https://discord.com/api/v10/webhooks/123/***/messages/@original has returned 200"
    )
