"""The fake GitHub's REST API over HTTP: every request gated as GitHub gates it.

Order per request: extra latency, credentials (401), primary quota (403/429 with
``x-ratelimit-remaining: 0``), secondary limit on writes (403 with ``retry-after``), body
parsing, then an injected fault or the endpoint. Every answer is logged and carries the
``x-ratelimit-*`` headers of the caller's quota.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler

from tests.fakes.github_app_routes import APP_ROUTES
from tests.fakes.github_auth import ANONYMOUS, Caller, authenticate
from tests.fakes.github_calls import Call, Endpoint, World
from tests.fakes.github_hook_routes import HOOK_ROUTES
from tests.fakes.github_routes import ROUTES
from tests.fakes.github_rules import (
    PRIMARY_LIMIT_DOCS,
    RATE_LIMIT_DOCS,
    GitHubError,
    JSONObject,
    not_found,
)
from tests.fakes.github_traffic import (
    Fault,
    FaultPlan,
    Quota,
    RateLimiter,
    RequestLog,
    RequestRecord,
)

API_VERSION = "2022-11-28"
_CALLER = web.RequestKey("fake_github_caller", Caller)
_BODY = web.RequestKey("fake_github_body", dict)
# What sits in front of the API answers 5xx; bodies as they arrive from github.com.
SERVER_ERRORS: dict[int, tuple[str, str]] = {
    500: ('{"message":"Server Error"}', "application/json; charset=utf-8"),
    502: ("<html><body><h1>502 Server Error</h1></body></html>\n", "text/html"),
    503: ('{"message":"Service Unavailable"}', "application/json; charset=utf-8"),
    504: (
        '{"message":"We couldn\'t respond to your request in time. Sorry about that."}',
        "application/json; charset=utf-8",
    ),
}


def json_response(payload: object, status: int = 200) -> web.Response:
    """Return JSON as GitHub sends it (``application/json; charset=utf-8``)."""
    return web.Response(
        body=json.dumps(payload).encode(),
        status=status,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )


@dataclass
class _Answer:
    response: web.StreamResponse | None  # None: the connection is dropped
    caller: Caller
    fault: str | None = None
    auth: str | None = None  # "invalid" when the credentials were refused


class GitHubApi:
    """Serve the REST endpoints with GitHub's auth, rate limits and injectable faults."""

    def __init__(
        self,
        *,
        world: World,
        faults: FaultPlan,
        limiter: RateLimiter,
        requests: RequestLog,
        prefix: str = "",
        jwt_clock: Callable[[], float] = time.time,
    ) -> None:
        self.world = world
        self.jwt_clock = jwt_clock
        self.faults = faults
        self.limiter = limiter
        self.requests = requests
        self.prefix = prefix

    def application(self) -> web.Application:
        """Return an aiohttp application serving the API routes."""
        app = web.Application(middlewares=[self._middleware])
        for method, path, endpoint in (*APP_ROUTES, *ROUTES, *HOOK_ROUTES):
            path = path.replace("{ref}", "{ref:.+}")
            app.router.add_route(method, self.prefix + path, self._endpoint(endpoint))
            if path.startswith("/repos/{owner}/{repo}/"):
                alias = path.replace("/repos/{owner}/{repo}/", "/repositories/{repository_id}/")
                app.router.add_route(method, self.prefix + alias, self._endpoint(endpoint))
        app.router.add_get(self.prefix + "/rate_limit", self._get_rate_limit)
        return app

    @property
    def api_base(self) -> str:
        """The API root URLs in answers point at."""
        return self.world.render.api

    def _endpoint(self, endpoint: Endpoint) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            call = Call(
                request.match_info,
                request.query,
                request.get(_BODY, {}),
                request.get(_CALLER, ANONYMOUS),
                self.api_base,
            )
            reply = endpoint(self.world, call)
            if reply.payload is None:
                response = web.Response(status=reply.status)
            else:
                response = json_response(reply.payload, reply.status)
            response.headers.update(reply.headers)
            return response

        return handle

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_fake/"):
            return await handler(request)
        if self.faults.latency_ms > 0:
            await asyncio.sleep(self.faults.latency_ms / 1000)
        route = _route_template(request, self.prefix)
        answer = await self._answer(request, handler, route)
        response = answer.response
        caller = answer.caller
        self.requests.add(
            RequestRecord(
                method=request.method,
                route=route,
                path=request.path.removeprefix(self.prefix),
                status=response.status if response is not None else 0,
                at=self.world.state.clock.now(),
                auth=answer.auth or caller.kind,
                login=caller.user.login if caller.user else None,
                fault=answer.fault,
                body=request.get(_BODY),
            )
        )
        if response is None:
            # The work is done and the answer never comes: close the socket under the client.
            assert request.transport is not None
            request.transport.abort()
            raise asyncio.CancelledError
        version = request.headers.get("X-GitHub-Api-Version", API_VERSION)
        response.headers["X-GitHub-Api-Version-Selected"] = version
        return response

    async def _answer(self, request: web.Request, handler: Handler, route: str) -> _Answer:
        """Gate the request as GitHub does (credentials, quotas), then handle it."""
        try:
            caller = self._authenticate(request)
        except GitHubError as error:
            response = self._error(error, self.limiter.hit(ANONYMOUS.rate_key))
            return _Answer(response, ANONYMOUS, auth="invalid")
        if route == "/rate_limit":
            # Asking for the quota does not use any of it.
            request[_CALLER] = caller
            quota = self.limiter.peek(caller.rate_key)
            return _Answer(self._decorate(await handler(request), quota, caller), caller)
        quota = self.limiter.hit(caller.rate_key)
        if quota.exceeded:
            return _Answer(self._primary_limited(caller, quota), caller, "primary")
        retry_after = self.limiter.hit_secondary(caller.rate_key, request.method)
        if retry_after is not None:
            return _Answer(self._secondary_limited(quota, retry_after), caller, "secondary")
        request[_CALLER] = caller
        try:
            request[_BODY] = await _read_json(request)
        except GitHubError as error:
            return _Answer(self._error(error, quota), caller)
        fault = self.faults.draw(request.method, request.path.removeprefix(self.prefix), route)
        if fault is not None and not fault.applies:
            return _Answer(self._fault_response(fault, caller, quota), caller, fault.kind)
        response = await self._handle(request, handler, caller, quota)
        if fault is None:
            return _Answer(response, caller)
        if fault.kind == "drop":
            return _Answer(None, caller, fault.kind)
        if fault.kind == "stall":  # done; the answer waits (the client may die meanwhile)
            await asyncio.sleep(fault.retry_after_s)
            return _Answer(response, caller, fault.kind)
        return _Answer(self._fault_response(fault, caller, quota), caller, fault.kind)

    def _authenticate(self, request: web.Request) -> Caller:
        state = self.world.state
        return authenticate(
            request.headers.get("Authorization"),
            tokens=state.tokens,
            apps=state.apps,
            installations=state.installations,
            now=state.clock.now(),
            jwt_now=self.jwt_clock(),
        )

    async def _handle(
        self, request: web.Request, handler: Handler, caller: Caller, quota: Quota
    ) -> web.StreamResponse:
        try:
            response = await handler(request)
        except GitHubError as error:
            return self._error(error, quota, caller)
        except web.HTTPException:
            return self._error(not_found(), quota, caller)
        return self._decorate(response, quota, caller)

    def _decorate(
        self, response: web.StreamResponse, quota: Quota, caller: Caller = ANONYMOUS
    ) -> web.StreamResponse:
        response.headers.update(quota.headers())
        response.headers["X-GitHub-Media-Type"] = "github.v3; format=json"
        response.headers["X-GitHub-Request-Id"] = secrets.token_hex(8).upper()
        if caller.token is not None and caller.token.kind == "classic":
            response.headers["X-OAuth-Scopes"] = ", ".join(caller.token.scopes)
        return response

    def _error(
        self, error: GitHubError, quota: Quota, caller: Caller = ANONYMOUS
    ) -> web.StreamResponse:
        response = json_response(error.body(), error.status)
        response.headers.update(error.headers)
        return self._decorate(response, quota, caller)

    def _primary_limited(self, caller: Caller, quota: Quota) -> web.StreamResponse:
        message = (
            f"API rate limit exceeded for {caller.rate_subject()}. If you reach out to GitHub "
            "Support for help, please include the request ID and timestamp."
        )
        error = GitHubError(
            self.limiter.primary_status, message, documentation_url=PRIMARY_LIMIT_DOCS
        )
        exhausted = Quota(quota.limit, 0, quota.limit, quota.reset_at, True)
        return self._error(error, exhausted, caller)

    def _secondary_limited(self, quota: Quota, retry_after_s: int) -> web.StreamResponse:
        message = (
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
            "again. If you reach out to GitHub Support for help, please include the request ID."
        )
        error = GitHubError(403, message, documentation_url=RATE_LIMIT_DOCS)
        error.headers["retry-after"] = str(retry_after_s)
        return self._error(error, quota)

    def _fault_response(self, fault: Fault, caller: Caller, quota: Quota) -> web.StreamResponse:
        if fault.kind == "primary":
            return self._primary_limited(caller, quota)
        if fault.kind == "secondary":
            return self._secondary_limited(quota, fault.retry_after_s)
        text, content_type = SERVER_ERRORS.get(fault.status, SERVER_ERRORS[500])
        return web.Response(
            status=fault.status, body=text.encode(), headers={"Content-Type": content_type}
        )

    async def _get_rate_limit(self, request: web.Request) -> web.StreamResponse:
        """GET /rate_limit: the caller's quotas."""
        core = _quota_json(self.limiter.peek(request[_CALLER].rate_key))
        search = {**core, "limit": 30, "remaining": 30, "used": 0, "resource": "search"}
        return json_response({"resources": {"core": core, "search": search}, "rate": core})


def _quota_json(quota: Quota) -> JSONObject:
    return {
        "limit": quota.limit,
        "remaining": quota.remaining,
        "reset": quota.reset_at,
        "used": quota.used,
        "resource": quota.resource,
    }


async def _read_json(request: web.Request) -> JSONObject:
    """Parse the JSON body; GitHub answers 400 ``Problems parsing JSON`` for anything else."""
    raw = await request.text()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise GitHubError(400, "Problems parsing JSON") from None
    if not isinstance(body, dict):
        raise GitHubError(400, "Problems parsing JSON")
    return body


def _route_template(request: web.Request, prefix: str) -> str:
    resource = request.match_info.route.resource
    if resource is None:
        return "<unknown>"
    template = resource.canonical.removeprefix(prefix).replace("{ref:.+}", "{ref}")
    return template.replace("/repositories/{repository_id}/", "/repos/{owner}/{repo}/")
