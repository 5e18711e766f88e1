"""One githubkit client held open, authenticated per call, its errors translated.

githubkit is configured to do nothing on its own: no retries (its default re-POSTs after a 5xx,
which duplicates a comment whose answer was lost), no HTTP cache, its own token cache (the
default is shared by the whole process). Credentials are added to each request here, so one
connection pool serves the token, the App's JWT and every installation's token.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar

import httpx
from githubkit import GitHub, Response, UnauthAuthStrategy
from githubkit.cache import MemCacheStrategy
from githubkit.exception import GitHubException, RequestFailed
from pydantic import BaseModel, ValidationError

from bot.github.auth import AppJwt, Credentials, InstallationTokens, Sleep, cached_installation
from bot.github.errors import translate
from bot.github.shapes import GitHubApiError, RepoRef
from bot.runtime import Clock, NonRetriableError, RetriableError, Store, SystemClock

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.github.com"
TIMEOUT_S = 10.0
INSTALLATION_TTL_MS = 24 * 3_600_000
M = TypeVar("M", bound=BaseModel)
_NEXT = re.compile(r'<([^<>]+)>;\s*rel="next"')

# A call: given the request headers (with credentials), make the request.
Call = Callable[[dict[str, str]], Awaitable[Response[Any]]]


def parse(model: type[M], data: object, route: str) -> M:
    """Validate an answer into `model`; an unexpected shape is worth another try."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RetriableError(
            f"unexpected GitHub answer on {route}: {exc.error_count()} errors"
        ) from exc


class _SharedTransport(httpx.AsyncBaseTransport):
    """A connection pool that outlives the short-lived httpx clients githubkit makes."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport(retries=0)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send through the shared pool."""
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Keep the pool: githubkit closes its client after each request outside `async with`."""

    async def close(self) -> None:
        """Close the pool for good."""
        await self.inner.aclose()


class GitHubClient:
    """githubkit's `GitHub`, its credentials, and the translation of its errors."""

    def __init__(
        self,
        credentials: Credentials,
        store: Store | None = None,
        *,
        base_url: str = DEFAULT_API_BASE,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self.credentials = credentials
        self.clock = clock or SystemClock()
        self.sleep = sleep
        self.base_url = base_url.rstrip("/")
        self._transport = _SharedTransport()
        self.github = GitHub(
            UnauthAuthStrategy(),
            base_url=self.base_url,
            timeout=timeout_s,
            auto_retry=False,
            http_cache=False,
            cache_strategy=MemCacheStrategy(),
            async_transport=self._transport,
        )
        self._store = store
        self._jwt: AppJwt | None = None
        self._tokens: InstallationTokens | None = None
        if credentials.is_app:
            assert credentials.app_id is not None and credentials.private_key is not None
            if store is None:
                raise ValueError("GitHub App credentials need the store (installation tokens)")
            self._jwt = AppJwt(credentials.app_id, credentials.private_key, self.clock)
            self._tokens = InstallationTokens(store, self.clock, sleep)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._transport.close()

    def now_s(self) -> float:
        """Return the injected clock's time in seconds."""
        return self.clock.now_ms() / 1000

    # -- calls ---------------------------------------------------------------------------------

    async def send(self, route: str, call: Call, auth: Auth) -> Any:
        """Make `call` with the Authorization from `auth`; return the JSON body (or None)."""
        response = await self.request(route, call, auth)
        return response.json() if response.status_code != 204 and response.content else None

    async def request(self, route: str, call: Call, auth: Auth) -> Response[Any]:
        """Make `call` with `auth`, renewing the credentials once after a 401."""
        for attempt in (1, 2):
            headers = {"Authorization": await auth.header()}
            try:
                return await call(headers)
            except RequestFailed as exc:
                # A token GitHub no longer takes (expired on its clock, revoked): get a new
                # one and try once more. A 401 means the request was not carried out.
                if exc.response.status_code == 401 and attempt == 1 and await auth.refresh():
                    log.info("GitHub 401 on %s: refreshing the credentials", route)
                    continue
                raise translate(exc, route, self.now_s()) from exc
            except GitHubException as exc:
                raise translate(exc, route, self.now_s()) from exc
        raise AssertionError("unreachable")

    def app_auth(self) -> Auth:
        """Return the credentials for App routes (`/app/...`): the App's JWT."""
        if self._jwt is None:
            raise NonRetriableError("this needs a GitHub App (GITHUB_APP_ID), not a token")
        return _JwtAuth(self._jwt)

    def token_auth(self) -> Auth:
        """Return the personal token's credentials (webhooks named by `GITHUB_HOOK`)."""
        if self.credentials.token is None or self._tokens is not None:
            raise NonRetriableError("this needs GITHUB_TOKEN (with a GitHub App, use its hook)")
        return _TokenAuth(f"token {self.credentials.token}")

    def repo_auth(self, repo: RepoRef) -> Auth:
        """Return the credentials for a repository: the token, or its installation's token."""
        if self._tokens is None:
            return _TokenAuth(f"token {self.credentials.token}")
        return _InstallationAuth(self, self._tokens, repo)

    async def mint(self, installation_id: int) -> tuple[str, int]:
        """Trade the App's JWT for an installation token; return it and its expiry (ms)."""
        route = "POST /app/installations/{installation_id}/access_tokens"
        apps = self.github.rest.apps
        body = await self.send(
            route,
            lambda h: apps.async_create_installation_access_token(installation_id, headers=h),
            self.app_auth(),
        )
        expires = datetime.fromisoformat(str(body["expires_at"]).replace("Z", "+00:00"))
        return str(body["token"]), int(expires.timestamp() * 1000)

    async def installation_of(self, repo: RepoRef) -> int:
        """Find the installation covering `repo` (deliveries name it; Discord events do not)."""
        assert self._store is not None

        async def lookup() -> int:
            route = "GET /repos/{owner}/{repo}/installation"
            apps = self.github.rest.apps
            body = await self.send(
                route,
                lambda h: apps.async_get_repo_installation(repo.owner, repo.name, headers=h),
                self.app_auth(),
            )
            return int(body["id"])

        return await cached_installation(self._store, repo.full_name, lookup, INSTALLATION_TTL_MS)

    async def pages(
        self, route: str, first: Call, auth: Auth, key: str | None = None
    ) -> AsyncIterator[list[Any]]:
        """Yield each page's items, following `Link: <...>; rel="next"` (`key`: items field)."""
        call = first
        while True:
            response = await self.request(route, call, auth)
            body = response.json()
            items = body.get(key, []) if key is not None and isinstance(body, dict) else body
            if not isinstance(items, list):
                raise GitHubApiError(route, response.status_code, "expected a list")
            yield items
            found = _NEXT.search(response.headers.get("link", ""))
            if found is None:
                return
            url = found.group(1)
            call = self._get(url)

    def _get(self, url: str) -> Call:
        async def call(headers: dict[str, str]) -> Response[Any]:
            return await self.github.arequest("GET", url, headers=headers)

        return call


class Auth(Protocol):
    """Where one call's Authorization header comes from, and how to renew it after a 401."""

    async def header(self) -> str:
        """Return the Authorization header value."""

    async def refresh(self) -> bool:
        """Drop what GitHub refused; True when a second try may work."""


class _TokenAuth:
    def __init__(self, header: str) -> None:
        self._header = header

    async def header(self) -> str:
        return self._header

    async def refresh(self) -> bool:
        return False  # a personal token is what it is


class _JwtAuth:
    def __init__(self, jwt: AppJwt) -> None:
        self._jwt = jwt

    async def header(self) -> str:
        return self._jwt.header()

    async def refresh(self) -> bool:
        self._jwt.forget()
        return True


class _InstallationAuth:
    def __init__(self, client: GitHubClient, tokens: InstallationTokens, repo: RepoRef) -> None:
        self._client = client
        self._tokens = tokens
        self._repo = repo
        self._installation = repo.installation_id

    async def header(self) -> str:
        if self._installation is None:
            self._installation = await self._client.installation_of(self._repo)
        return await self._tokens.header(self._installation, self._client.mint)

    async def refresh(self) -> bool:
        if self._installation is not None:
            await self._tokens.forget(self._installation)
        return True
