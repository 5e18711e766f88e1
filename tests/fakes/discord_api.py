"""The fake's Discord API over HTTP: routes, and every request gated as Discord gates it.

Order per request: extra latency, global limit and route bucket (429), token (401), body parsing,
then an injected fault or the endpoint. Every answer is counted in the request log (status 0: the
connection was dropped instead), and every routed answer carries its bucket's X-RateLimit-* headers.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler

from tests.fakes.discord_clock import FakeClock
from tests.fakes.discord_responses import (
    error_response,
    fault_response,
    json_response,
    rate_limited,
    read_json,
    with_headers,
)
from tests.fakes.discord_routes import ROUTES, Call, Endpoint
from tests.fakes.discord_rules import DiscordError, RateLimitedError, route_not_found, unauthorized
from tests.fakes.discord_state import DiscordState
from tests.fakes.discord_traffic import (
    BucketState,
    FaultPlan,
    RateLimiter,
    RequestLog,
    RequestRecord,
)

API_PREFIX = "/api/v10"
_BODY = web.RequestKey("fake_discord_body", object)


class DiscordApi:
    """Serve the REST endpoints under ``/api/v10`` with Discord's auth, limits and faults."""

    def __init__(
        self,
        *,
        token: str,
        state: DiscordState,
        faults: FaultPlan,
        limiter: RateLimiter,
        requests: RequestLog,
    ) -> None:
        self.token = token
        self.state = state
        self.faults = faults
        self.limiter = limiter
        self.requests = requests

    @property
    def clock(self) -> FakeClock:
        """The fake clock every rule reads."""
        return self.state.clock

    def application(self) -> web.Application:
        """Return an aiohttp application serving the API routes."""
        app = web.Application(middlewares=[self._middleware])
        for method, path, endpoint in ROUTES:
            app.router.add_route(method, API_PREFIX + path, self._endpoint(endpoint))
        return app

    def _endpoint(self, endpoint: Endpoint) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            raw = request.get(_BODY, {})
            call = Call(
                request.match_info, request.query, raw if isinstance(raw, dict) else {}, raw
            )
            status, payload = endpoint(self.state, call)
            if payload is None:
                return web.Response(status=status)
            return json_response(payload, status)

        return handle

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX + "/"):
            return await handler(request)
        if self.faults.latency_ms > 0:
            await asyncio.sleep(self.faults.latency_ms / 1000)
        route = _route_template(request)
        answer = await self._answer(request, handler, route)
        record = RequestRecord(
            method=request.method,
            route=route,
            path=_api_path(request),
            status=0 if answer.dropped else answer.response.status,
            at=self.clock.now(),
            fault=answer.fault,
            scope=answer.scope,
            body=request.get(_BODY),
        )
        self.requests.add(record)
        return answer.response

    async def _answer(self, request: web.Request, handler: Handler, route: str) -> _Answer:
        """Gate the request as Discord does (global limit, route bucket, token), then handle it."""
        bucket: BucketState | None = None
        try:
            retry_after = self.limiter.hit_global()
            if retry_after is not None:
                return _Answer(rate_limited(retry_after, None, scope="global"), scope="global")
            bucket = self._bucket(request, route)
            if bucket is not None and bucket.exceeded:
                response = rate_limited(bucket.reset_after_s, bucket, scope="user")
                return _Answer(response, scope="user")
            self._authorize(request)
            request[_BODY] = await read_json(request)
            return await self._handle(request, handler, route, bucket)
        except RateLimitedError as limited:
            response = rate_limited(limited.retry_after_s, bucket, scope=limited.scope)
            return _Answer(response, scope=limited.scope)
        except DiscordError as error:
            return _Answer(error_response(error, bucket))
        except web.HTTPException as unrouted:
            return _Answer(error_response(_unrouted(unrouted)))

    async def _handle(
        self, request: web.Request, handler: Handler, route: str, bucket: BucketState | None
    ) -> _Answer:
        """Run the endpoint, unless a fault is injected (before it runs, or after with apply)."""
        fault = self.faults.draw(request.method, _api_path(request), route)
        if fault is None:
            return _Answer(with_headers(await handler(request), bucket))
        if fault.apply:
            # The write happens; its own answer, error or not, is lost behind the fault.
            with contextlib.suppress(DiscordError):
                await handler(request)
        if fault.drop:
            # No answer at all: the client sees the connection close (aiohttp then drops the
            # response it is handed back).
            if request.transport is not None:
                request.transport.abort()
            return _Answer(web.Response(status=502), fault.source, fault.scope, dropped=True)
        return _Answer(fault_response(fault, bucket), fault.source, fault.scope)

    def _authorize(self, request: web.Request) -> None:
        # Webhook routes with a token (interaction answers) take no other authorisation.
        if request.match_info.get("token") and request.path.startswith(API_PREFIX + "/webhooks/"):
            return
        if request.headers.get("Authorization") != f"Bot {self.token}":
            raise unauthorized()

    def _bucket(self, request: web.Request, route: str) -> BucketState | None:
        if request.match_info.route.resource is None:
            return None
        # Buckets are per method + route, per top-level resource (channel or guild).
        info = request.match_info
        major = info.get("channel_id") or info.get("guild_id") or ""
        return self.limiter.hit(f"{request.method} {route}", major)


@dataclass(frozen=True)
class _Answer:
    response: web.StreamResponse
    fault: str | None = None
    scope: str | None = None
    dropped: bool = False


def _route_template(request: web.Request) -> str:
    resource = request.match_info.route.resource
    if resource is None:
        return "<unknown>"
    return resource.canonical.removeprefix(API_PREFIX)


def _api_path(request: web.Request) -> str:
    return request.path.removeprefix(API_PREFIX)


def _unrouted(exc: web.HTTPException) -> DiscordError:
    if exc.status == 405:
        return DiscordError(405, 0, "405: Method Not Allowed")
    return route_not_found()
