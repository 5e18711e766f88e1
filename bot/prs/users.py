"""The GitHub login -> Discord user id mapping (GITHUB_DISCORD_USERS and its file)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from bot.settings import Settings

log = logging.getLogger(__name__)


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
