"""`POST /discord/interactions`: verify, parse, enqueue, answer "deferred"; no work in the request.

Discord wants an answer within 3 s and sends invalid signatures on purpose (401 expected). A
command becomes the event `discord/interaction.<command>`; a worker's run edits the deferred,
ephemeral answer with the result. A command no function takes is answered at once.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from bot.discord.interactions import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    InteractionError,
    deferred,
    parse,
    pong,
    said,
    verify,
)
from bot.github.webhooks import PayloadTooLargeError
from bot.prs.answers import interaction_event, keep_token
from bot.runtime import Runtime, StoreUnavailableError
from bot.web.app import is_draining, read_body

log = logging.getLogger(__name__)

INTERACTIONS_PATH = "/discord/interactions"
MAX_BODY_BYTES = 1 << 20  # resolved messages and members included, an interaction is a few KB
UNKNOWN = "This prbot does not know that command; an admin may run `prbot commands sync`."
STORE_DOWN = "prbot cannot take commands right now (its store does not answer); try again."


class InteractionsRoute:
    """Answer one interaction request."""

    def __init__(self, public_key_hex: str, runtime: Runtime, app: FastAPI) -> None:
        self.public_key_hex = public_key_hex
        self.runtime = runtime
        self.app = app

    async def __call__(self, request: Request) -> Response:
        """Verify, parse, enqueue; answer PONG, deferred, or at once when nothing can run it."""
        started = time.perf_counter()
        status, body, outcome, name = await self._answer(request)
        log.info(
            "interaction %s status=%d outcome=%s ms=%.1f",
            name,
            status,
            outcome,
            (time.perf_counter() - started) * 1000,
            extra={"event": name, "status": status, "outcome": outcome},
        )
        return JSONResponse(body, status)

    async def _answer(self, request: Request) -> tuple[int, dict[str, Any], str, str]:
        if is_draining(self.app):
            return 503, {"error": "shutting down"}, "draining", "-"
        try:
            raw = await read_body(request, MAX_BODY_BYTES)
            verify(
                self.public_key_hex,
                request.headers.get(SIGNATURE_HEADER, ""),
                request.headers.get(TIMESTAMP_HEADER, ""),
                raw,
            )
            invocation = parse(raw)
        except InteractionError as exc:
            return exc.status, {"error": str(exc)}, "refused", "-"
        except PayloadTooLargeError as exc:
            return 413, {"error": str(exc)}, "too_large", "-"
        if invocation is None:
            return 200, pong(), "pong", "ping"
        event = interaction_event(invocation)
        try:
            await keep_token(self.runtime.store, invocation.id, invocation.token)
            [result] = await self.runtime.send([event])
        except StoreUnavailableError:
            return 200, said(STORE_DOWN), "unavailable", event.name
        if result.status == "ignored":
            return 200, said(UNKNOWN), "ignored", event.name
        return 200, deferred(), result.status, event.name


def mount_interactions(app: FastAPI, public_key_hex: str, runtime: Runtime) -> None:
    """Mount the interactions endpoint (DISCORD_PUBLIC_KEY set)."""
    route = InteractionsRoute(public_key_hex, runtime, app)

    async def receive_discord_interaction(request: Request) -> Response:
        return await route(request)

    app.add_api_route(
        INTERACTIONS_PATH,
        receive_discord_interaction,
        methods=["POST"],
        summary="Receive a Discord interaction (slash command)",
        description="Verify the Ed25519 signature, enqueue the command, answer deferred.",
    )
