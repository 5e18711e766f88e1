"""The HTTP front door: the webhook route verifies, records and enqueues; health and metrics."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from bot.github.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    FORM_TYPE,
    JSON_TYPE,
    MAX_BODY_BYTES,
    SIGNATURE_HEADER,
    Delivery,
    PayloadTooLargeError,
    SignatureError,
    WebhookError,
    header_ids,
    parse_delivery,
)
from bot.runtime import Runtime, StoreUnavailableError
from bot.settings import Settings
from bot.web.bodies import BodyBudgetMiddleware
from bot.web.dashboard import mount_dashboard
from bot.web.metrics import CONTENT_TYPE_LATEST, Metrics

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/github"
RETRY_AFTER_S = 5
READY_TIMEOUT_S = 2.0
_OUTCOMES = {400: "bad_request", 401: "unauthorized", 413: "too_large", 415: "unsupported"}


class Accepted(BaseModel):
    """The delivery is stored: queued (runs made), duplicate (seen) or ignored (no function)."""

    id: str
    status: Literal["queued", "duplicate", "ignored"]


class Pong(BaseModel):
    """The answer to GitHub's ping, naming the hook it was for."""

    id: str
    status: Literal["pong"]
    hook_id: int | None


class ErrorBody(BaseModel):
    """Why a request was refused."""

    error: str


class Readiness(BaseModel):
    """Whether this process can take work, check by check."""

    status: Literal["ready", "not ready"]
    checks: dict[str, str]


@dataclass
class Answer:
    """What to answer a delivery, and how to log and count it."""

    code: int
    body: dict[str, Any]
    outcome: str
    event: str = "-"
    delivery_id: str = "-"
    note: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    parsed: bool = False  # the delivery passed verification, so its event may label metrics


def _unavailable(why: str, outcome: str, event: str = "-", delivery_id: str = "-") -> Answer:
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    return Answer(503, {"error": why}, outcome, event, delivery_id, why, headers)


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """Read the body, refusing (413) as soon as it passes `limit` bytes: never buffer more."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"body exceeds {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        if len(body) + len(chunk) > limit:
            raise PayloadTooLargeError(f"body exceeds {limit} bytes")
        body += chunk
    return bytes(body)


class Receiver:
    """Verify, parse, record and enqueue one delivery; no business work in the request."""

    def __init__(
        self, settings: Settings, runtime: Runtime, metrics: Metrics, app: FastAPI
    ) -> None:
        secret = settings.github_webhook_secret
        self.secret = secret.get_secret_value() if secret is not None else None
        self.allow_unsigned = settings.allow_unsigned_webhooks
        self.runtime = runtime
        self.metrics = metrics
        self.app = app

    async def __call__(self, request: Request) -> Response:
        """Answer one webhook delivery."""
        started = time.perf_counter()
        answer = await self.answer(request)
        elapsed_s = time.perf_counter() - started
        # Refused deliveries share one label: their headers must not mint metric series.
        label = answer.event if answer.parsed else "-"
        self.metrics.record_delivery(label, answer.outcome, elapsed_s)
        self._log(answer, elapsed_s * 1000)
        return JSONResponse(answer.body, answer.code, headers=answer.headers)

    async def answer(self, request: Request) -> Answer:
        """Decide the answer to a delivery."""
        if is_draining(self.app):
            return _unavailable(
                "shutting down; retry later", "draining", *header_ids(request.headers)
            )
        try:
            secret = self._secret()
            body = await read_body(request)
            delivery = parse_delivery(request.headers, body, secret)
        except WebhookError as exc:
            event, delivery_id = header_ids(request.headers)
            outcome = _OUTCOMES.get(exc.status_code, "refused")
            return Answer(
                exc.status_code, {"error": str(exc)}, outcome, event, delivery_id, str(exc)
            )
        except ClientDisconnect:
            return Answer(400, {"error": "client disconnected"}, "disconnected")
        note = (
            "UNSIGNED: signature not verified (ALLOW_UNSIGNED_WEBHOOKS)" if secret is None else ""
        )
        answer = await self._accept(delivery)
        answer.note = answer.note or note
        answer.parsed = True
        return answer

    def _secret(self) -> str | None:
        if self.secret is None and not self.allow_unsigned:
            raise SignatureError("no webhook secret configured (GITHUB_WEBHOOK_SECRET): refusing")
        return self.secret

    async def _accept(self, delivery: Delivery) -> Answer:
        ids = (delivery.event, delivery.delivery_id)
        if delivery.is_ping:
            pong = Pong(id=delivery.delivery_id, status="pong", hook_id=delivery.hook_id)
            return Answer(200, pong.model_dump(), "pong", *ids)
        try:
            result = await self.runtime.send_one(delivery.to_event(), delivery.meta, delivery.raw)
        except StoreUnavailableError as exc:
            answer = _unavailable("store unavailable; retry later", "unavailable", *ids)
            answer.note = f"not accepted, ask GitHub to redeliver: {exc}"
            return answer
        body = Accepted(id=result.event_id, status=result.status)
        return Answer(202, body.model_dump(), result.status, *ids)

    @staticmethod
    def _log(answer: Answer, elapsed_ms: float) -> None:
        level = logging.INFO if answer.code < 400 and not answer.note else logging.WARNING
        log.log(
            level,
            "webhook delivery=%s event=%s status=%d outcome=%s ms=%.1f%s",
            answer.delivery_id, answer.event, answer.code, answer.outcome, elapsed_ms,
            f" note={answer.note!r}" if answer.note else "",
            extra={
                "delivery_id": answer.delivery_id, "event": answer.event,
                "status": answer.code, "outcome": answer.outcome, "ms": round(elapsed_ms, 1),
            },
        )  # fmt: skip


def is_draining(app: FastAPI) -> bool:
    """Tell whether the app is draining (shutting down): webhooks then answer 503."""
    return bool(getattr(app.state, "draining", False))


def set_draining(app: FastAPI, draining: bool = True) -> None:
    """Switch draining on (during shutdown) or off."""
    app.state.draining = draining


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Missing header, invalid JSON or not an object"},
    401: {"model": ErrorBody, "description": "Signature missing or wrong"},
    413: {"model": ErrorBody, "description": "Body over 25 MB"},
    415: {"model": ErrorBody, "description": "Neither JSON nor form-encoded"},
    503: {"model": ErrorBody, "description": "Store unavailable or shutting down; see Retry-After"},
}
_HEADERS = [
    {"name": EVENT_HEADER, "in": "header", "required": True, "schema": {"type": "string"}},
    {"name": DELIVERY_HEADER, "in": "header", "required": True, "schema": {"type": "string"}},
    {"name": SIGNATURE_HEADER, "in": "header", "required": False, "schema": {"type": "string"}},
]
_FORM = {"type": "object", "properties": {"payload": {"type": "string"}}, "required": ["payload"]}
_WEBHOOK_OPENAPI = {
    "parameters": _HEADERS,
    "requestBody": {
        "required": True,
        "content": {JSON_TYPE: {"schema": {"type": "object"}}, FORM_TYPE: {"schema": _FORM}},
    },
}


def _add_webhook(app: FastAPI, receiver: Receiver) -> None:
    async def receive_github_webhook(request: Request) -> Response:
        return await receiver(request)

    app.add_api_route(
        WEBHOOK_PATH,
        receive_github_webhook,
        methods=["POST"],
        status_code=202,
        summary="Receive a GitHub webhook delivery",
        description="Verify the signature, record the delivery, dedup by delivery id, enqueue.",
        responses={202: {"model": Accepted}, 200: {"model": Pong}, **_ERRORS},
        openapi_extra=_WEBHOOK_OPENAPI,
    )


def _add_operations(
    app: FastAPI,
    runtime: Runtime,
    metrics: Metrics,
    worker_ready: Callable[[], bool] | None,
    gateway_ready: Callable[[], bool] | None = None,
) -> None:
    @app.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="Redis answers (and the worker is ready)", response_model=Readiness)
    async def readyz() -> JSONResponse:
        checks = {"store": await _store_check(runtime)}
        if worker_ready is not None:
            checks["worker"] = "ok" if worker_ready() else "not ready"
        if gateway_ready is not None:
            checks["gateway"] = "ok" if gateway_ready() else "not connected"
        if is_draining(app):
            checks["draining"] = "shutting down"
        ready = all(v == "ok" for v in checks.values())
        body = Readiness(status="ready" if ready else "not ready", checks=checks)
        return JSONResponse(body.model_dump(), 200 if ready else 503)

    @app.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics_endpoint() -> Response:
        await metrics.refresh(runtime.store)
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


async def _store_check(runtime: Runtime) -> str:
    try:
        await asyncio.wait_for(runtime.store.ping(), READY_TIMEOUT_S)
    except (StoreUnavailableError, TimeoutError):
        return "unavailable"
    return "ok"


def create_app(
    settings: Settings,
    runtime: Runtime,
    *,
    metrics: Metrics | None = None,
    worker_ready: Callable[[], bool] | None = None,
    webhooks: bool = True,
    gateway_ready: Callable[[], bool] | None = None,
) -> FastAPI:
    """Build the app: the webhook receiver (unless `webhooks` is False), health, metrics, /ui."""
    app = FastAPI(
        title="prbot",
        summary="GitHub → Discord pull-request threads",
        version="0.1.0",
        # Not served: a public receiver has no reason to describe itself (`app.openapi()` does).
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    metrics = metrics or Metrics()
    app.add_middleware(
        BodyBudgetMiddleware,
        limit_bytes=settings.webhook_bodies_max_mb * 1024 * 1024,
        max_body_bytes=MAX_BODY_BYTES,
        retry_after_s=RETRY_AFTER_S,
        on_refused=lambda: metrics.record_delivery("-", "busy", 0.0),
    )
    app.state.draining = False
    app.state.metrics = metrics
    app.state.runtime = runtime
    if webhooks:
        _add_webhook(app, Receiver(settings, runtime, metrics, app))
    _add_operations(app, runtime, metrics, worker_ready, gateway_ready)
    mount_dashboard(app, settings, runtime)
    return app
