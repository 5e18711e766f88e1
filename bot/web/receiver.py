"""The webhook receiver, in plain ASGI: verify, check, record and queue; nothing else.

Every GitHub delivery takes this path, so it skips what a framework route costs per request
(routing, the request object, dependency resolution, response models): `WebhookIngress` answers
`POST /webhooks/github` itself and hands every other request to the app. The payload is checked
to be a JSON object (never decoded here) and stored as it came with one atomic store call shared
by the deliveries that arrive together; a worker plans the runs (`Runtime.plan_inbox`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.github.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    MAX_BODY_BYTES,
    PayloadTooLargeError,
    Received,
    SignatureError,
    WebhookError,
    header_ids,
    receive_delivery,
)
from bot.runtime import Runtime, StoreUnavailableError
from bot.web.bodies import BodyBudget, declared_size, refuse_busy
from bot.web.metrics import Metrics

log = logging.getLogger("bot.web.app")

WEBHOOK_PATH = "/webhooks/github"
RETRY_AFTER_S = 5
_OUTCOMES = {400: "bad_request", 401: "unauthorized", 413: "too_large", 415: "unsupported"}
_JSON = [(b"content-type", b"application/json")]
LOG_LINE = "webhook delivery=%s event=%s status=%d outcome=%s ms=%.1f%s"
UNSIGNED_NOTE = "UNSIGNED: signature not verified (ALLOW_UNSIGNED_WEBHOOKS)"
_EVENT, _DELIVERY = EVENT_HEADER.lower(), DELIVERY_HEADER.lower()


@dataclass
class LogBudget:
    """Routine lines (accepted deliveries) at `rate` per second, in bursts of up to `burst`.

    A quiet receiver logs every delivery; under a flood (a redelivery storm, a backfill) the
    lines past the budget are counted instead, and the next line says how many were not
    written one by one (/metrics counts each). Refusals and 503s are always logged.
    """

    rate: float = 20.0
    burst: float = 40.0
    clock: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)  # a full burst to start with
    at: float = 0.0
    skipped: int = 0

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def take(self) -> bool:
        """Spend one line; False (and counted) when the budget is spent."""
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.skipped += 1
        return False

    def unsaid(self) -> str:
        """Return what the next line adds about the lines not written, and start counting anew."""
        skipped, self.skipped = self.skipped, 0
        return (
            f" (+{skipped} more accepted since the last line, counted in /metrics)"
            if skipped
            else ""
        )


class ClientGoneError(Exception):
    """The client disconnected before its body was read whole."""


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


def unavailable(why: str, outcome: str, event: str = "-", delivery_id: str = "-") -> Answer:
    """Return a 503 with `Retry-After`: the sender should try again later."""
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    return Answer(503, {"error": why}, outcome, event, delivery_id, why, headers)


def header_map(scope: Scope) -> dict[str, str]:
    """Return the request's headers by lower-case name (ASGI gives them lower-case already)."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


async def read_all(receive: Receive, limit: int) -> bytes:
    """Read a request body, refusing (413) as soon as it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGoneError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"body exceeds {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class Receiver:
    """Verify, check, record and queue one delivery; no business work in the request."""

    def __init__(
        self,
        secret: str | None,
        allow_unsigned: bool,
        runtime: Runtime,
        metrics: Metrics,
        draining: Callable[[], bool],
    ) -> None:
        self.secret = secret
        self.allow_unsigned = allow_unsigned
        self.runtime = runtime
        self.metrics = metrics
        self.draining = draining
        self.log_budget = LogBudget()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one webhook delivery (an ASGI app for `POST /webhooks/github`)."""
        started = time.perf_counter()
        headers = header_map(scope)
        answer = await self.answer(headers, receive)
        elapsed_s = time.perf_counter() - started
        # Refused deliveries share one label: their headers must not mint metric series.
        label = answer.event if answer.parsed else "-"
        self.metrics.record_delivery(label, answer.outcome, elapsed_s)
        self._log(answer, elapsed_s * 1000)
        body = orjson.dumps(answer.body)
        extra = [(k.lower().encode(), v.encode()) for k, v in answer.headers.items()]
        length = [(b"content-length", str(len(body)).encode())]
        start = {"type": "http.response.start", "status": answer.code}
        await send({**start, "headers": _JSON + length + extra})
        await send({"type": "http.response.body", "body": body})

    async def answer(self, headers: dict[str, str], receive: Receive) -> Answer:
        """Decide the answer to a delivery."""
        if self.draining():
            return unavailable("shutting down; retry later", "draining", *header_ids(headers))
        try:
            secret = self._secret()
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                raise PayloadTooLargeError(f"body exceeds {MAX_BODY_BYTES} bytes")
            body = await read_all(receive, MAX_BODY_BYTES)
            delivery = receive_delivery(headers, body, secret)
        except WebhookError as exc:
            event, delivery_id = header_ids(headers)
            outcome = _OUTCOMES.get(exc.status_code, "refused")
            return Answer(
                exc.status_code, {"error": str(exc)}, outcome, event, delivery_id, str(exc)
            )
        except ClientGoneError:
            return Answer(400, {"error": "client disconnected"}, "disconnected")
        answer = await self._accept(delivery)
        if secret is None:
            answer.note = answer.note or UNSIGNED_NOTE
        answer.parsed = True
        return answer

    def _secret(self) -> str | None:
        if self.secret is None and not self.allow_unsigned:
            raise SignatureError("no webhook secret configured (GITHUB_WEBHOOK_SECRET): refusing")
        return self.secret

    async def _accept(self, delivery: Received) -> Answer:
        ids = (delivery.event, delivery.delivery_id)
        if delivery.is_ping:
            pong = {"id": delivery.delivery_id, "status": "pong", "hook_id": delivery.hook_id}
            return Answer(200, pong, "pong", *ids)
        try:
            result = await self.runtime.accept(
                delivery.event_name, delivery.delivery_id, delivery.raw, delivery.meta
            )
        except StoreUnavailableError as exc:
            answer = unavailable("store unavailable; retry later", "unavailable", *ids)
            answer.note = f"not accepted, ask GitHub to redeliver: {exc}"
            return answer
        return Answer(202, {"id": result.event_id, "status": result.status}, result.status, *ids)

    def _log(self, answer: Answer, elapsed_ms: float) -> None:
        routine = answer.code < 400 and not answer.note
        level = logging.INFO if routine else logging.WARNING
        if not log.isEnabledFor(level) or (routine and not self.log_budget.take()):
            return
        note = f" note={answer.note!r}" if answer.note else self.log_budget.unsaid()
        args = (
            answer.delivery_id, answer.event, answer.code, answer.outcome, elapsed_ms, note
        )  # fmt: skip
        context = {
            "delivery_id": answer.delivery_id, "event": answer.event, "status": answer.code,
            "outcome": answer.outcome, "ms": round(elapsed_ms, 1),
        }  # fmt: skip
        # The record made directly: `log.log` would walk the stack for a caller no format shows
        # (a sixth of the line's cost, on every delivery). Filters (redaction) and handlers apply.
        record = log.makeRecord(log.name, level, __file__, 0, LOG_LINE, args, None, "_log", context)
        log.handle(record)


class WebhookIngress:
    """ASGI middleware: `POST /webhooks/github` goes to the receiver, the rest to the app.

    The delivery's body is reserved from the body budget (`bodies.py`) while it is handled.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        receiver: Receiver,
        budget: BodyBudget,
        retry_after_s: int,
        on_refused: Callable[[], None],
    ) -> None:
        self.app = app
        self.receiver = receiver
        self.budget = budget
        self.retry_after_s = retry_after_s
        self.on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a delivery, or pass the request on."""
        if scope["type"] != "http" or scope["path"] != WEBHOOK_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        size = declared_size(scope, MAX_BODY_BYTES)
        if not self.budget.take(size):
            self.on_refused()
            await refuse_busy(size, self.budget, self.retry_after_s, send)
            return
        try:
            await self.receiver(scope, receive, send)
        finally:
            self.budget.give_back(size)
