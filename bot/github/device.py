"""GitHub's device flow: someone proves which GitHub login is theirs, with the App's client id.

https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps#device-flow
(the same for a GitHub App with "Enable Device Flow" on): `POST /login/device/code` gives a
user code to type at the verification URI; `POST /login/oauth/access_token` is polled no faster
than `interval` until the person approves; `GET /user` with the token names the login. The
token is used for that one call and never leaves this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import httpx

from bot.runtime import NonRetriableError, RetriableError

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_EXTRA_S = 5  # GitHub: after slow_down, wait 5 s longer than before
TIMEOUT_S = 10.0

PollStatus = Literal["pending", "slow_down", "granted", "expired", "denied"]


def web_base_for(api_base: str) -> str:
    """Return the web base of a GitHub API base: github.com, or a GHES host without /api/v3."""
    base = api_base.rstrip("/")
    if base == "https://api.github.com":
        return "https://github.com"
    return base.removesuffix("/api/v3")


@dataclass(frozen=True)
class DeviceCode:
    """What the person is shown (user code, where to type it) and what prbot polls with."""

    device_code: str
    user_code: str
    verification_uri: str
    expires_in_s: int
    interval_s: int


@dataclass(frozen=True)
class Poll:
    """One poll's answer: still pending, slow down (new interval), granted (login), or over."""

    status: PollStatus
    interval_s: int | None = None
    login: str | None = None


class DeviceFlow:
    """The device flow against github.com (or GHES, or a fake): start, poll, learn the login."""

    def __init__(
        self,
        client_id: str,
        *,
        api_base: str,
        web_base: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.client_id = client_id
        self.api_base = api_base.rstrip("/")
        self.web_base = (web_base or web_base_for(api_base)).rstrip("/")
        self._transport = transport

    def _client(self) -> httpx.AsyncClient:
        headers = {"Accept": "application/json", "User-Agent": "prbot"}
        return httpx.AsyncClient(timeout=TIMEOUT_S, headers=headers, transport=self._transport)

    async def start(self) -> DeviceCode:
        """Ask GitHub for a device and user code."""
        data = await self._post("/login/device/code", {"client_id": self.client_id})
        try:
            return DeviceCode(
                device_code=str(data["device_code"]),
                user_code=str(data["user_code"]),
                verification_uri=str(data["verification_uri"]),
                expires_in_s=int(data["expires_in"]),
                interval_s=int(data["interval"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise NonRetriableError(_refusal("device code", data)) from exc

    async def poll(self, device_code: str, interval_s: int) -> Poll:
        """Ask once whether the person approved; on approval, return their login."""
        form = {"client_id": self.client_id, "device_code": device_code, "grant_type": GRANT_TYPE}
        data = await self._post("/login/oauth/access_token", form)
        token = data.get("access_token")
        if isinstance(token, str) and token:
            return Poll("granted", login=await self._login(token))
        error = data.get("error")
        if error == "authorization_pending":
            return Poll("pending", interval_s)
        if error == "slow_down":
            given = data.get("interval")
            return Poll("slow_down", int(given) if given else interval_s + SLOW_DOWN_EXTRA_S)
        if error == "expired_token":
            return Poll("expired")
        if error == "access_denied":
            return Poll("denied")
        raise NonRetriableError(_refusal("access token", data))

    async def _post(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        try:
            async with self._client() as client:
                response = await client.post(self.web_base + path, data=form)
        except httpx.HTTPError as exc:
            raise RetriableError(f"GitHub {path}: {type(exc).__name__}") from exc
        return _json(path, response)

    async def _login(self, token: str) -> str:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}
        try:
            async with self._client() as client:
                response = await client.get(self.api_base + "/user", headers=headers)
        except httpx.HTTPError as exc:
            raise RetriableError(f"GitHub GET /user: {type(exc).__name__}") from exc
        login = _json("/user", response).get("login")
        if not isinstance(login, str) or not login:
            raise NonRetriableError("GitHub GET /user answered without a login")
        return login


def _json(path: str, response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 500 or response.status_code == 429:
        raise RetriableError(f"GitHub {response.status_code} on {path}")
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code >= 400 or not isinstance(data, dict):
        raise NonRetriableError(f"GitHub {response.status_code} on {path}")
    return data


def _refusal(what: str, data: dict[str, Any]) -> str:
    error = data.get("error", "unexpected answer")
    if error == "device_flow_disabled":
        return "GitHub refused the device flow: enable it in the GitHub App's settings"
    if error == "incorrect_client_credentials":
        return "GitHub does not know GITHUB_APP_CLIENT_ID"
    return f"GitHub refused the {what}: {error}"
