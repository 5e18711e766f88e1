"""The GitHub login <-> Discord user map, seeded by the settings and kept in the store.

GITHUB_DISCORD_USERS (and its file) seed it; `/pr link`, `/pr unlink` and `/prbot link` change it.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.runtime import RetriableError, Store
from bot.settings import Settings

log = logging.getLogger(__name__)

KIND = "users"
LOCK_TTL_MS = 10_000


class UserMapError(ValueError):
    """The GitHub→Discord user mapping cannot be read."""


def _parse_id(login: str, value: object) -> int:
    text = str(value).strip()
    if not text.isdigit():
        raise UserMapError(f"Discord user id for {login!r} is not a number: {text!r}")
    return int(text)


def parse_user_file(text: str) -> dict[str, int]:
    """Parse a mapping file: a JSON object, or `login=id` / `login:id` lines (`#` comments)."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise UserMapError(f"invalid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise UserMapError("expected a JSON object of login -> Discord user id")
        return {str(k): _parse_id(str(k), v) for k, v in data.items()}
    out: dict[str, int] = {}
    for raw in stripped.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        sep = "=" if "=" in line else ":"
        login, found, value = line.partition(sep)
        if not found or not login.strip():
            raise UserMapError(f"expected login=id, got {line!r}")
        out[login.strip()] = _parse_id(login.strip(), value)
    return out


def load_users(settings: Settings) -> dict[str, int]:
    """Return the GitHub login (casefolded) → Discord user id mapping; the setting wins."""
    merged: dict[str, int] = {}
    if settings.github_discord_users_file:
        path = Path(settings.github_discord_users_file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UserMapError(f"cannot read {path}: {exc}") from exc
        merged.update(parse_user_file(text))
    for login, value in settings.github_discord_users.items():
        merged[login] = _parse_id(login, value)
    return {login.casefold(): uid for login, uid in merged.items()}


@dataclass(frozen=True)
class UserLink:
    """One GitHub login and the Discord user it belongs to, and where that link came from."""

    login: str
    discord_id: int
    source: str  # settings | github (proven with the device flow) | admin:<discord id>


class UserMap:
    """GitHub login <-> Discord user, kept in the store; the settings (and their file) seed it.

    The store wins over the seed: a link made with `/pr link` or `/prbot link` replaces the
    seeded one, and `/pr unlink` leaves an empty value that hides it. One Discord user has one
    login; linking another unlinks the previous one.
    """

    def __init__(self, store: Store, seed: Mapping[str, int]) -> None:
        self.data = store.data
        self.seed = {login.casefold(): uid for login, uid in seed.items()}

    async def discord_id(self, login: str | None) -> int | None:
        """Return the Discord user of a GitHub login, if linked."""
        if not login:
            return None
        stored = await self.data.field(KIND, "github", login.casefold())
        if stored is None:
            return self.seed.get(login.casefold())
        return int(stored) if stored else None

    async def login_of(self, discord_id: int) -> str | None:
        """Return the GitHub login linked to a Discord user, if any."""
        stored = await self.data.field(KIND, "discord", str(discord_id))
        if stored is not None:
            return stored or None
        for login, uid in self.seed.items():
            if uid == discord_id and await self.discord_id(login) == discord_id:
                return login
        return None

    async def link(self, login: str, discord_id: int, source: str) -> str | None:
        """Link `login` to the Discord user; return the login that user had before, if another."""
        login = login.casefold()
        async with self._locked():
            before = await self.login_of(discord_id)
            owner = await self.discord_id(login)
            if before and before != login:
                await self.data.update(KIND, "github", {before: ""})
            if owner is not None and owner != discord_id:
                await self.data.update(KIND, "discord", {str(owner): ""})
            await self.data.update(KIND, "github", {login: str(discord_id)})
            await self.data.update(KIND, "discord", {str(discord_id): login})
            await self.data.update(KIND, "source", {login: source})
        return before if before != login else None

    async def unlink(self, discord_id: int) -> str | None:
        """Unlink the Discord user's login; return it (None when there was none)."""
        async with self._locked():
            login = await self.login_of(discord_id)
            if login is None:
                return None
            await self.data.update(KIND, "github", {login: ""})
            await self.data.update(KIND, "discord", {str(discord_id): ""})
        return login

    async def links(self) -> list[UserLink]:
        """Return every link in force, by login."""
        stored = await self.data.get(KIND, "github")
        sources = await self.data.get(KIND, "source")
        found = {login: UserLink(login, uid, "settings") for login, uid in self.seed.items()}
        for login, value in stored.items():
            if not value:
                found.pop(login, None)
            else:
                found[login] = UserLink(login, int(value), sources.get(login) or "settings")
        return sorted(found.values(), key=lambda link: link.login)

    @asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        # Links change rarely: a second writer at the same moment retries its step later.
        token = uuid.uuid4().hex
        if not await self.data.lock(f"{KIND}-map", token, LOCK_TTL_MS):
            raise RetriableError("the user map is being changed; trying again")
        try:
            yield
        finally:
            await self.data.unlock(f"{KIND}-map", token)
