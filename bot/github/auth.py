"""Credentials for GitHub's API: a token, or a GitHub App's JWTs and installation tokens.

An App signs a short JWT (RS256, `iss` = app id) and trades it at
`POST /app/installations/{id}/access_tokens` for a one-hour installation token:
https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
Installation tokens are shared by every process through the store, kept until five minutes
before they expire; one process mints at a time (a store lock), the others wait for its token.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import jwt

from bot.runtime import Clock, RetriableError, Store

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
# (installation id) -> (token, expires at ms): the request that mints a token.
Mint = Callable[[int], Awaitable[tuple[str, int]]]

TOKEN_MARGIN_MS = 5 * 60_000  # stop using a token this long before GitHub's expiry
JWT_LIFETIME_S = 540  # GitHub allows at most 10 minutes
JWT_BACKDATE_S = 60  # allow for clocks a little ahead of GitHub's
MINT_LOCK_MS = 15_000
MINT_WAIT_S = 0.05
TOKENS = "github-token"
INSTALLATIONS = "github-installation"


@dataclass(frozen=True)
class Credentials:
    """Either a token or an App (id + private key PEM); never both."""

    token: str | None = None
    app_id: int | None = None
    private_key: str | None = None

    @property
    def is_app(self) -> bool:
        """Tell whether these are App credentials."""
        return self.app_id is not None and self.private_key is not None

    def __repr__(self) -> str:
        return f"Credentials({'app ' + str(self.app_id) if self.is_app else 'token'})"


def sign_app_jwt(app_id: int, private_key: str, now_s: int) -> str:
    """Return an App JWT issued at `now_s` (backdated a minute) and valid nine minutes."""
    claims = {"iat": now_s - JWT_BACKDATE_S, "exp": now_s + JWT_LIFETIME_S, "iss": str(app_id)}
    return jwt.encode(claims, private_key, algorithm="RS256")


class AppJwt:
    """The App's JWT, signed on the injected clock and reused until a minute before it ends."""

    def __init__(self, app_id: int, private_key: str, clock: Clock) -> None:
        self._app_id = app_id
        self._key = private_key
        self._clock = clock
        self._jwt: tuple[str, int] | None = None  # (jwt, reuse until ms)

    def header(self) -> str:
        """Return `Bearer <jwt>`."""
        now_ms = self._clock.now_ms()
        if self._jwt is None or now_ms >= self._jwt[1]:
            token = sign_app_jwt(self._app_id, self._key, now_ms // 1000)
            self._jwt = (token, now_ms + (JWT_LIFETIME_S - 60) * 1000)
        return f"Bearer {self._jwt[0]}"

    def forget(self) -> None:
        """Sign a fresh JWT next time (GitHub refused this one)."""
        self._jwt = None


class InstallationTokens:
    """Installation tokens cached in the store (and in memory), minted once for all processes."""

    def __init__(self, store: Store, clock: Clock, sleep: Sleep) -> None:
        self._store = store
        self._clock = clock
        self._sleep = sleep
        self._memo: dict[int, tuple[str, int]] = {}  # installation -> (token, use until ms)

    async def header(self, installation_id: int, mint: Mint) -> str:
        """Return `token <installation token>`, minting one when none is fresh."""
        return f"token {await self.token(installation_id, mint)}"

    async def token(self, installation_id: int, mint: Mint) -> str:
        """Return a fresh token: from memory, the store, or minted under the store lock."""
        found = self._fresh(installation_id) or await self._stored(installation_id)
        if found is not None:
            return found
        lock, holder = f"{TOKENS}:{installation_id}", uuid.uuid4().hex
        waited_s = 0.0
        while not await self._store.data.lock(lock, holder, MINT_LOCK_MS):
            # Another process is minting: its token lands in the store shortly.
            await self._sleep(MINT_WAIT_S)
            waited_s += MINT_WAIT_S
            found = await self._stored(installation_id)
            if found is not None:
                return found
            if waited_s * 1000 > MINT_LOCK_MS:
                raise RetriableError("another process is minting a GitHub installation token")
        try:
            return await self._stored(installation_id) or await self._mint(installation_id, mint)
        finally:
            await self._store.data.unlock(lock, holder)

    async def forget(self, installation_id: int) -> None:
        """Drop the cached token (GitHub answered 401 with it: expired or revoked)."""
        self._memo.pop(installation_id, None)
        await self._store.data.forget(TOKENS, str(installation_id))

    def _fresh(self, installation_id: int) -> str | None:
        memo = self._memo.get(installation_id)
        if memo is None or self._clock.now_ms() >= memo[1]:
            return None
        return memo[0]

    async def _stored(self, installation_id: int) -> str | None:
        record = await self._store.data.get(TOKENS, str(installation_id))
        token, until = record.get("token"), int(record.get("use_until_ms", "0"))
        if token is None or self._clock.now_ms() >= until:
            return None
        self._memo[installation_id] = (token, until)
        return token

    async def _mint(self, installation_id: int, mint: Mint) -> str:
        token, expires_ms = await mint(installation_id)
        until = expires_ms - TOKEN_MARGIN_MS
        ttl_ms = until - self._clock.now_ms()
        if ttl_ms > 0:
            record = {"token": token, "use_until_ms": str(until)}
            await self._store.data.update(TOKENS, str(installation_id), record, ttl_ms=ttl_ms)
            self._memo[installation_id] = (token, until)
        log.info("GitHub installation token minted installation=%d", installation_id)
        return token


async def cached_installation(
    store: Store, full_name: str, lookup: Callable[[], Awaitable[int]], ttl_ms: int
) -> int:
    """Return the App installation that covers `full_name`, looked up once per `ttl_ms`."""
    found = await store.data.field(INSTALLATIONS, full_name, "id")
    if found is not None:
        return int(found)
    installation_id = await lookup()
    await store.data.update(INSTALLATIONS, full_name, {"id": str(installation_id)}, ttl_ms=ttl_ms)
    return installation_id
