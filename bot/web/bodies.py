"""Bound the request bodies held at once across requests, before any signature is checked.

A webhook body must be read whole before its HMAC can be verified, so anyone who can reach the
port can make prbot buffer up to 25 MB per request. Each request reserves its declared
`Content-Length` (the per-request maximum when it sends none) from one budget for the whole
process; past the budget it is answered 503 with `Retry-After` without its body being read.
Large bodies may use only part of the budget, so a few slow large uploads never starve the
ordinary deliveries (a few kilobytes each).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

# A body over this counts as large; GitHub's deliveries are almost always far smaller.
LARGE_BODY_BYTES = 1024 * 1024
# Large bodies together may hold at most this share of the budget; the rest stays for the others.
LARGE_SHARE = 0.75


@dataclass
class BodyBudget:
    """The bytes reserved by bodies in flight, all and large ones, against one limit."""

    limit_bytes: int
    in_use: int = 0
    large_in_use: int = 0

    def take(self, size: int) -> bool:
        """Reserve `size` bytes; False (nothing reserved) when that would pass a limit."""
        large = size > LARGE_BODY_BYTES
        if self.in_use + size > self.limit_bytes:
            return False
        if large and self.large_in_use + size > self.limit_bytes * LARGE_SHARE:
            return False
        self.in_use += size
        self.large_in_use += size if large else 0
        return True

    def give_back(self, size: int) -> None:
        """Release a reservation made by `take`."""
        self.in_use -= size
        self.large_in_use -= size if size > LARGE_BODY_BYTES else 0


def declared_size(scope: Scope, max_body_bytes: int) -> int:
    """Return what a request may make the app buffer: its Content-Length, capped; 0 if no body."""
    length = b""
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            length = value
        elif name == b"transfer-encoding":
            chunked = True
    if length.isdigit():
        return min(int(length), max_body_bytes)  # over the cap, the app refuses it unread (413)
    return max_body_bytes if chunked else 0


async def refuse_busy(size: int, budget: BodyBudget, retry_after_s: int, send: Send) -> None:
    """Answer 503 + `Retry-After` without reading the body: the budget is spent."""
    log.warning(
        "request refused (503): its %d-byte body would pass the %d bytes of bodies read at "
        "once (%d in flight); WEBHOOK_BODIES_MAX_MB",
        size, budget.limit_bytes, budget.in_use,
    )  # fmt: skip
    body = json.dumps({"error": "too many large requests at once; retry later"}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after_s).encode()),
        (b"connection", b"close"),  # its unread body must not be taken for the next request
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyBudgetMiddleware:
    """ASGI middleware: answer 503 + `Retry-After` while the body budget is spent."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        budget: BodyBudget,
        max_body_bytes: int,
        retry_after_s: int,
        on_refused: Callable[[], None] = lambda: None,
    ) -> None:
        self.app = app
        self.budget = budget
        self.max_body_bytes = max_body_bytes
        self.retry_after_s = retry_after_s
        self.on_refused = on_refused

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Reserve the request's body from the budget for as long as the app handles it."""
        size = declared_size(scope, self.max_body_bytes) if scope["type"] == "http" else 0
        if size == 0:
            await self.app(scope, receive, send)
            return
        if not self.budget.take(size):
            self.on_refused()
            await refuse_busy(size, self.budget, self.retry_after_s, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.budget.give_back(size)
