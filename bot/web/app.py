"""The HTTP front door: the webhook receiver (receiver.py), health, metrics and the dashboard."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Literal

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.types import Receive, Scope, Send

from bot.github.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    FORM_TYPE,
    JSON_TYPE,
    MAX_BODY_BYTES,
    SIGNATURE_HEADER,
    PayloadTooLargeError,
)
from bot.runtime import Runtime, StoreUnavailableError
from bot.settings import Settings
from bot.web.bodies import BodyBudget, BodyBudgetMiddleware
from bot.web.dashboard import mount_dashboard
from bot.web.metrics import CONTENT_TYPE_LATEST, Metrics
from bot.web.receiver import RETRY_AFTER_S, WEBHOOK_PATH, Receiver, WebhookIngress

__all__ = ["WEBHOOK_PATH", "create_app", "is_draining", "read_body", "set_draining"]

READY_TIMEOUT_S = 2.0


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


class _Answered(Response):
    """A route's answer written by a plain ASGI app (the receiver) from the untouched request."""

    def __init__(self, asgi: Receiver) -> None:
        super().__init__()
        self.asgi = asgi

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.asgi(scope, receive, send)


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
    # Deliveries are answered by `WebhookIngress` before routing; this route describes them
    # (`app.openapi()`) and answers the same way should a request reach it.
    async def receive_github_webhook(request: Request) -> Response:
        return _Answered(receiver)

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
    budget = BodyBudget(settings.webhook_bodies_max_mb * 1024 * 1024)

    def busy() -> None:
        metrics.record_delivery("-", "busy", 0.0)

    app.add_middleware(
        BodyBudgetMiddleware, budget=budget, max_body_bytes=MAX_BODY_BYTES,
        retry_after_s=RETRY_AFTER_S, on_refused=busy,
    )  # fmt: skip
    app.state.draining = False
    app.state.metrics = metrics
    app.state.runtime = runtime
    if webhooks:
        secret = settings.github_webhook_secret
        receiver = Receiver(
            secret.get_secret_value() if secret is not None else None,
            settings.allow_unsigned_webhooks, runtime, metrics, lambda: is_draining(app),
        )  # fmt: skip
        app.state.receiver = receiver
        _add_webhook(app, receiver)
        app.add_middleware(  # outermost of ours: a delivery skips routing and the rest
            WebhookIngress, receiver=receiver, budget=budget, retry_after_s=RETRY_AFTER_S,
            on_refused=busy,
        )  # fmt: skip
    _add_operations(app, runtime, metrics, worker_ready, gateway_ready)
    mount_dashboard(app, settings, runtime)
    return app
