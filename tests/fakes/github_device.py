"""A fake of GitHub's device flow on loopback: the two github.com endpoints and `GET /user`.

    async with FakeDeviceFlow(client_id="Iv1.abc") as gh:
        flow = DeviceFlow("Iv1.abc", api_base=gh.api_base)   # web base = gh.base_url
        code = await flow.start()
        gh.approve(code.user_code, "octocat")

Rules from https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
#device-flow: answers are form-encoded unless the request accepts JSON; errors come with 200
(`authorization_pending`, `slow_down` (+5 s to the interval), `expired_token`, `access_denied`,
`incorrect_client_credentials`, `incorrect_device_code`, `unsupported_grant_type`,
`device_flow_disabled`); a device code expires after `expires_in` on the fake clock and gives
one token. `GET /user` (under `/api/v3`, as on GitHub Enterprise) needs that token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode

from aiohttp import web

from tests.fakes.discord_clock import FakeClock
from tests.fakes.http_fake import LoopbackServer

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_S = 5


@dataclass
class Grant:
    """One device code: who may approve it, when it expires, how polling went."""

    device_code: str
    user_code: str
    expires_at: float
    interval_s: int
    last_poll: float | None = None
    login: str | None = None  # approved as this login
    denied: bool = False
    used: bool = False
    polls: int = 0


@dataclass
class Requests:
    """What clients asked, in order: (method, path, status, error or '')."""

    log: list[tuple[str, str, int, str]] = field(default_factory=list)

    def errors(self) -> list[str]:
        """Return the device-flow errors answered, in order."""
        return [e for _, _, _, e in self.log if e]


class FakeDeviceFlow(LoopbackServer):
    """GitHub's device flow and `GET /user`, with a clock tests move."""

    def __init__(
        self,
        *,
        client_id: str = "Iv1.fake-client-id",
        enabled: bool = True,
        interval_s: int = 5,
        expires_in_s: int = 900,
        clock: FakeClock | None = None,
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.enabled = enabled
        self.interval_s = interval_s
        self.expires_in_s = expires_in_s
        self.clock = clock or FakeClock()
        self.grants: dict[str, Grant] = {}
        self.tokens: dict[str, str] = {}  # access token -> login
        self.requests = Requests()

    def build_app(self) -> web.Application:
        """Serve the two github.com endpoints and the API's ``GET /user``."""
        app = web.Application()
        app.router.add_post("/login/device/code", self._device_code)
        app.router.add_post("/login/oauth/access_token", self._access_token)
        app.router.add_get("/api/v3/user", self._user)
        return app

    @property
    def api_base(self) -> str:
        """The API base (GITHUB_API_BASE), Enterprise style; ``base_url`` is github.com's."""
        return self.base_url + "/api/v3"

    # -- what the person does on github.com ---------------------------------------------------

    def approve(self, user_code: str, login: str) -> None:
        """The person enters the code and authorizes the app as `login`."""
        self._by_user_code(user_code).login = login

    def deny(self, user_code: str) -> None:
        """The person cancels."""
        self._by_user_code(user_code).denied = True

    def _by_user_code(self, user_code: str) -> Grant:
        return next(g for g in self.grants.values() if g.user_code == user_code)

    # -- endpoints ------------------------------------------------------------------------------

    def _answer(
        self, request: web.Request, data: dict[str, object], status: int = 200
    ) -> web.Response:
        self.requests.log.append((request.method, request.path, status, str(data.get("error", ""))))
        if "application/json" in request.headers.get("Accept", ""):
            return web.json_response(data, status=status)
        body = urlencode({k: str(v) for k, v in data.items()})
        return web.Response(
            text=body, status=status, content_type="application/x-www-form-urlencoded"
        )

    def _error(self, request: web.Request, error: str, **extra: object) -> web.Response:
        url = "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes"
        return self._answer(
            request, {"error": error, "error_description": error, "error_uri": url, **extra}
        )

    async def _device_code(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("client_id") != self.client_id:
            return self._answer(request, {"error": "Not Found"}, 404)
        if not self.enabled:
            return self._error(request, "device_flow_disabled")
        user_code = f"{secrets.token_hex(2).upper()}-{secrets.token_hex(2).upper()}"
        grant = Grant(
            secrets.token_hex(20), user_code, self.clock.now() + self.expires_in_s, self.interval_s
        )
        self.grants[grant.device_code] = grant
        return self._answer(
            request,
            {
                "device_code": grant.device_code,
                "user_code": user_code,
                "verification_uri": self.base_url + "/login/device",
                "expires_in": self.expires_in_s,
                "interval": self.interval_s,
            },
        )

    async def _access_token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != GRANT_TYPE:
            return self._error(request, "unsupported_grant_type")
        if form.get("client_id") != self.client_id:
            return self._error(request, "incorrect_client_credentials")
        grant = self.grants.get(str(form.get("device_code", "")))
        if grant is None or grant.used:
            return self._error(request, "incorrect_device_code")
        now = self.clock.now()
        grant.polls += 1
        too_soon = grant.last_poll is not None and now - grant.last_poll < grant.interval_s
        grant.last_poll = now
        if now >= grant.expires_at:
            return self._error(request, "expired_token")
        if too_soon:
            grant.interval_s += SLOW_DOWN_S
            return self._error(request, "slow_down", interval=grant.interval_s)
        if grant.denied:
            return self._error(request, "access_denied")
        if grant.login is None:
            return self._error(request, "authorization_pending")
        grant.used = True
        token = "ghu_" + secrets.token_hex(18)
        self.tokens[token] = grant.login
        return self._answer(request, {"access_token": token, "token_type": "bearer", "scope": ""})

    async def _user(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        login = self.tokens.get(auth.removeprefix("Bearer ").removeprefix("token "))
        status = 200 if login is not None else 401
        self.requests.log.append((request.method, request.path, status, ""))
        if login is None:  # the REST API answers JSON whatever the Accept header says
            return web.json_response({"message": "Bad credentials"}, status=401)
        return web.json_response({"login": login, "id": 1, "type": "User"})
