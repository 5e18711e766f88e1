"""The webhook route through the real ASGI app and a real Redis: accept, dedup, refuse, 503."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI

from bot.github.webhooks import MAX_BODY_BYTES, sign
from bot.runtime import Context, Event, ManualClock, Runtime, Store, Worker, function
from bot.settings import load_settings
from bot.web.app import create_app, set_draining
from bot.web.metrics import Metrics, MetricsObserver, record_discord_call
from tests.web import SECRET, Sample, recorded

URL = "/webhooks/github"


@function("t", "github/pull_request.*")
async def on_pull_request(ctx: Context) -> str:
    """Stand in for the product's functions: triggered by pull requests only."""
    return ctx.event.name


@dataclass
class Harness:
    """The app under test, a client for it and the store behind it."""

    app: FastAPI
    client: httpx.AsyncClient
    store: Store
    runtime: Runtime
    metrics: Metrics

    async def post(self, sample: Sample, headers: dict[str, str]) -> httpx.Response:
        """POST a delivery's body with `headers`."""
        return await self.client.post(URL, content=sample.body, headers=headers)

    async def stored(self) -> tuple[int, int]:
        """Return (recorded events, deliveries whose runs are to be planned or are queued)."""
        k, redis = self.store.keys, self.store.redis
        return await redis.zcard(k.events), await redis.llen(k.inbox) + await redis.zcard(k.sched)

    async def record(self, delivery_id: str) -> dict[str, object]:
        """Return the stored record of a delivery."""
        raw = await self.store.redis.get(self.store.keys.event(delivery_id))
        assert raw is not None
        value = json.loads(raw)
        assert isinstance(value, dict)
        return value


async def written(store: Store) -> list[str]:
    """Return every key under the store's prefix: proof that nothing at all was stored."""
    return [key async for key in store.redis.scan_iter(match=f"{store.keys.prefix}:*")]


async def harness_for(store: Store, settings: dict[str, str] | None = None) -> Harness:
    """Build the app on `store` with the test secret (or `settings`)."""
    env = {"GITHUB_WEBHOOK_SECRET": SECRET} if settings is None else settings
    runtime = Runtime(store, [on_pull_request])
    metrics = Metrics()
    app = create_app(load_settings(env), runtime, metrics=metrics)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    return Harness(app, client, store, runtime, metrics)


@pytest.fixture
async def h(real_store: Store) -> AsyncIterator[Harness]:
    """Yield the app on the real (flushed) Redis."""
    harness = await harness_for(real_store)
    async with harness.client:
        yield harness


@pytest.fixture
def opened() -> Sample:
    """Return a real pull_request.opened delivery."""
    return recorded("pull_request", "opened")


async def test_accepted_delivery_is_recorded_and_queued(h: Harness, opened: Sample) -> None:
    response = await h.post(opened, opened.headers("d-accepted"))
    assert response.status_code == 202
    assert response.json() == {"id": "d-accepted", "status": "queued"}
    assert await h.stored() == (1, 1)
    record = await h.record("d-accepted")
    assert record["event"] == {
        "name": "github/pull_request.opened",
        "id": "d-accepted",
        "data": opened.payload(),
        "ts": record["event"]["ts"],  # type: ignore[index]
        "v": None,
    }
    assert record["meta"] == {
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": "d-accepted",
        "X-GitHub-Hook-ID": "109948940",
        "User-Agent": "GitHub-Hookshot/044aadd",
    }
    assert await Worker(h.runtime).run_until_idle() == 1


async def test_same_delivery_twice_is_one_event(h: Harness, opened: Sample) -> None:
    first = await h.post(opened, opened.headers("d-dup"))
    second = await h.post(opened, opened.headers("d-dup"))
    assert (first.status_code, first.json()["status"]) == (202, "queued")
    assert (second.status_code, second.json()) == (202, {"id": "d-dup", "status": "duplicate"})
    assert await h.stored() == (1, 1)
    assert await Worker(h.runtime).run_until_idle() == 1


async def test_event_no_function_wants_is_recorded_but_ignored(h: Harness) -> None:
    push = recorded("push")
    response = await h.post(push, push.headers("d-push"))
    assert (response.status_code, response.json()) == (202, {"id": "d-push", "status": "ignored"})
    assert await h.stored() == (1, 0)
    assert (await h.record("d-push"))["event"]["name"] == "github/push"  # type: ignore[index]


async def test_ping_answers_with_its_hook_id(h: Harness) -> None:
    ping = recorded("ping")
    response = await h.post(ping, ping.headers("d-ping"))
    assert response.status_code == 200
    hook_id = ping.payload()["hook_id"]
    assert response.json() == {"id": "d-ping", "status": "pong", "hook_id": hook_id}
    assert await h.stored() == (0, 0)


async def test_form_encoded_delivery_is_accepted(h: Harness, opened: Sample) -> None:
    form = urlencode({"payload": opened.body.decode()}).encode()
    headers = {**opened.headers("d-form"), "Content-Type": "application/x-www-form-urlencoded"}
    headers["X-Hub-Signature-256"] = sign(form, SECRET)
    response = await h.client.post(URL, content=form, headers=headers)
    assert (response.status_code, response.json()) == (202, {"id": "d-form", "status": "queued"})
    assert (await h.record("d-form"))["event"]["data"] == opened.payload()  # type: ignore[index]


def _signed(body: bytes, **headers: str) -> dict[str, str]:
    base = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "d-bad"}
    base.update({"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, SECRET)})
    base.update({k.replace("_", "-"): v for k, v in headers.items()})
    return {k: v for k, v in base.items() if v}


GOOD = b'{"action":"opened"}'
FORM = "application/x-www-form-urlencoded"
BAD_INPUTS = [
    ("no signature", GOOD, _signed(GOOD, X_Hub_Signature_256=""), 401, "missing X-Hub-Signature"),
    ("wrong secret", GOOD, _signed(b"other"), 401, "does not match"),
    ("malformed sig", GOOD, _signed(GOOD, X_Hub_Signature_256="md5=1"), 401, "malformed"),
    ("no event", GOOD, _signed(GOOD, X_GitHub_Event=""), 400, "missing X-GitHub-Event"),
    ("no delivery", GOOD, _signed(GOOD, X_GitHub_Delivery=""), 400, "missing X-GitHub-Delivery"),
    ("bad delivery", GOOD, _signed(GOOD, X_GitHub_Delivery="../x"), 400, "invalid X-GitHub-Deliv"),
    ("invalid JSON", b"{x", _signed(b"{x"), 400, "invalid JSON"),
    ("empty body", b"", _signed(b""), 400, "invalid JSON"),
    ("array", b"[1]", _signed(b"[1]"), 400, "must be a JSON object, got list"),
    ("form no payload", b"a=1", _signed(b"a=1", Content_Type=FORM), 400, "'payload' field"),
    ("form bad JSON", b"payload=x", _signed(b"payload=x", Content_Type=FORM), 400, "invalid JSON"),
    ("text body", GOOD, _signed(GOOD, Content_Type="text/plain"), 415, "unsupported Content-Type"),
]


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
async def test_bad_input_is_refused_and_nothing_stored(
    h: Harness, body: bytes, headers: dict[str, str], status: int, message: str
) -> None:
    response = await h.client.post(URL, content=body, headers=headers)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert await h.stored() == (0, 0)
    assert await written(h.store) == []


async def _chunks(count: int, size: int, sent: list[int]) -> AsyncIterator[bytes]:
    for _ in range(count):
        sent.append(size)
        yield b" " * size


async def test_oversized_body_is_refused_while_streaming(h: Harness) -> None:
    sent: list[int] = []
    mb = 1024 * 1024
    body = _chunks(40, mb, sent)  # 40 MB offered, no Content-Length
    response = await h.client.post(URL, content=body, headers=_signed(b"", X_Hub_Signature_256=""))
    assert response.status_code == 413
    assert "exceeds 26214400 bytes" in response.json()["error"]
    assert sum(sent) <= MAX_BODY_BYTES + mb  # stopped reading at the limit, not at the end
    assert await written(h.store) == []


async def test_declared_oversized_body_is_refused_before_reading(h: Harness) -> None:
    headers = {**_signed(GOOD), "Content-Length": str(MAX_BODY_BYTES + 1)}
    sent: list[int] = []
    response = await h.client.post(URL, content=_chunks(1, 10, sent), headers=headers)
    assert response.status_code == 413
    assert await written(h.store) == []


async def test_redis_down_is_503_then_nothing_is_lost(
    h: Harness, opened: Sample, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.web.app")
    down = Store.connect("redis://127.0.0.1:1/0", prefix="test")
    broken = await harness_for(down)
    async with broken.client:
        response = await broken.post(opened, opened.headers("d-later"))
    await down.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "store unavailable" in response.json()["error"]
    [line] = [r.getMessage() for r in caplog.records if r.name == "bot.web.app"]
    assert "delivery=d-later" in line and "status=503" in line and "redeliver" in line
    assert await h.stored() == (0, 0)
    # GitHub (or someone by hand) redelivers the same delivery once Redis is back.
    again = await h.post(opened, opened.headers("d-later"))
    assert (again.status_code, again.json()) == (202, {"id": "d-later", "status": "queued"})
    assert await h.stored() == (1, 1)


async def test_draining_answers_503(h: Harness, opened: Sample) -> None:
    set_draining(h.app)
    response = await h.post(opened, opened.headers("d-drain"))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert (await h.client.get("/readyz")).status_code == 503
    assert await h.stored() == (0, 0)


async def test_no_secret_configured_refuses_everything(real_store: Store, opened: Sample) -> None:
    harness = await harness_for(real_store, {})
    async with harness.client:
        response = await harness.post(opened, opened.headers("d-nosecret"))
    assert response.status_code == 401
    assert "no webhook secret configured" in response.json()["error"]
    assert await written(real_store) == []


async def test_unsigned_mode_accepts_and_warns(
    real_store: Store, opened: Sample, caplog: pytest.LogCaptureFixture
) -> None:
    harness = await harness_for(real_store, {"ALLOW_UNSIGNED_WEBHOOKS": "true"})
    caplog.set_level(logging.INFO, logger="bot.web.app")
    async with harness.client:
        for n in range(2):
            response = await harness.post(opened, opened.headers(f"d-u{n}", secret=None))
            assert response.status_code == 202
    unsigned = [r for r in caplog.records if "UNSIGNED" in r.getMessage()]
    assert [r.levelno for r in unsigned] == [logging.WARNING, logging.WARNING]


async def test_one_log_line_per_delivery(
    h: Harness, opened: Sample, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.web.app")
    await h.post(opened, opened.headers("d-log"))
    [line] = [r for r in caplog.records if r.name == "bot.web.app"]
    message = line.getMessage()
    assert "delivery=d-log event=pull_request status=202 outcome=queued ms=" in message
    assert getattr(line, "delivery_id") == "d-log"  # noqa: B009 - set through `extra`


async def test_health_readiness_and_metrics(h: Harness, opened: Sample) -> None:
    assert (await h.client.get("/healthz")).json() == {"status": "ok"}
    ready = await h.client.get("/readyz")
    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ready", "checks": {"store": "ok"}},
    )
    await h.post(opened, opened.headers("d-m"))
    await h.post(opened, opened.headers("d-m"))
    text = (await h.client.get("/metrics")).text
    assert 'prbot_webhook_deliveries_total{event="pull_request",status="queued"} 1.0' in text
    assert 'prbot_webhook_deliveries_total{event="pull_request",status="duplicate"} 1.0' in text
    assert "prbot_inbox_depth 1.0" in text  # accepted: a worker plans its run
    assert "prbot_queue_depth 0.0" in text
    await h.client.post(URL, content=GOOD, headers=_signed(b"x", X_GitHub_Event="made_up_event"))
    text = (await h.client.get("/metrics")).text
    assert 'prbot_webhook_deliveries_total{event="-",status="unauthorized"} 1.0' in text
    assert "made_up_event" not in text
    await Worker(h.runtime).run_until_idle()
    text = (await h.client.get("/metrics")).text
    assert "prbot_queue_depth 0.0" in text and "prbot_inbox_depth 0.0" in text


async def test_readiness_reports_a_store_that_is_down() -> None:
    down = Store.connect("redis://127.0.0.1:1/0", prefix="test")
    runtime = Runtime(down, [])
    app = create_app(load_settings({"GITHUB_WEBHOOK_SECRET": SECRET}), runtime, worker_ready=bool)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        ready = await client.get("/readyz")
        metrics = await client.get("/metrics")
    await down.close()
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"store": "unavailable", "worker": "not ready"}
    assert metrics.status_code == 200


async def test_openapi_describes_the_webhook_but_is_not_served(h: Harness) -> None:
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
        assert (await h.client.get(path)).status_code == 404, path
    spec = h.app.openapi()
    post = spec["paths"][URL]["post"]
    assert set(post["responses"]) >= {"200", "202", "400", "401", "413", "503"}
    assert {p["name"] for p in post["parameters"]} >= {"X-GitHub-Event", "X-GitHub-Delivery"}
    assert set(post["requestBody"]["content"]) == {"application/json", FORM}
    assert {"/healthz", "/readyz", "/metrics"} <= set(spec["paths"])


async def test_worker_role_app_has_no_webhook_route(real_store: Store) -> None:
    app = create_app(load_settings({}), Runtime(real_store, []), webhooks=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.post(URL, content=GOOD)).status_code == 404
        assert (await client.get("/healthz")).status_code == 200


async def test_metrics_count_runs_steps_retries_and_discord_calls(real_store: Store) -> None:
    attempts: list[int] = []

    async def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("first attempt fails")
        return "ok"

    @function("flaky", "github/pull_request.*", retries=2)
    async def flaky_fn(ctx: Context) -> str:
        return str(await ctx.step.run("call", flaky))

    metrics = Metrics()
    clock = ManualClock()
    runtime = Runtime(real_store, [flaky_fn], clock=clock, observer=MetricsObserver(metrics))
    await runtime.send([Event(name="github/pull_request.opened", id="d-obs")])
    worker = Worker(runtime)
    await worker.run_until_idle()
    clock.advance(60)
    await worker.run_until_idle()
    record_discord_call("POST /channels/{channel_id}/threads", 201, metrics)
    text = metrics.exposition().decode()
    assert 'prbot_runs_total{function="flaky",status="completed"} 1.0' in text
    assert 'prbot_retries_total{function="flaky"} 1.0' in text
    assert 'prbot_step_duration_seconds_count{function="flaky",outcome="ok"} 1.0' in text
    assert 'prbot_step_duration_seconds_count{function="flaky",outcome="error"} 1.0' in text
    route = 'route="POST /channels/{channel_id}/threads",status="201"'
    assert f"prbot_discord_api_calls_total{{{route}}} 1.0" in text


async def test_embedded_store_accepts_and_dedups_the_same_way(
    embedded_store: Store, opened: Sample
) -> None:
    harness = await harness_for(embedded_store)
    async with harness.client:
        first = await harness.post(opened, opened.headers("d-emb"))
        second = await harness.post(opened, opened.headers("d-emb"))
    assert [first.json()["status"], second.json()["status"]] == ["queued", "duplicate"]
    assert await harness.stored() == (1, 1)
