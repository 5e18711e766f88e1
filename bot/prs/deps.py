"""What PR functions depend on: settings, store, Discord, and the policy the settings set.

The policy is pure: routing (`REPO_CHANNELS`), filters, forum tag names, the user mapping.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.discord import DiscordAdapter
from bot.github.payloads import Subject
from bot.prs import render
from bot.runtime import Store
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


# Status tags of forum posts: key -> default tag name (FORUM_TAGS=key=Name overrides).
DEFAULT_TAG_NAMES = {
    "open": "open",
    "draft": "draft",
    "approved": "approved",
    "changes_requested": "changes requested",
    "merged": "merged",
    "closed": "closed",
}
APPLIED_TAGS_MAX = 5


def route(settings: Settings, repo: str) -> int | None:
    """Return the channel for `owner/repo`: exact route, then `owner/*`, then the default."""
    routes = {k.casefold(): v for k, v in settings.repo_channels.items()}
    owner = repo.split("/", 1)[0]
    channel = routes.get(repo.casefold()) or routes.get(f"{owner}/*".casefold())
    return int(channel) if channel else settings.discord_channel_id


def shared_channel(settings: Settings, channel_id: int) -> bool:
    """Tell whether a channel receives several repositories (an `owner/*` or two routes)."""
    sources = [k for k, v in settings.repo_channels.items() if int(v) == channel_id]
    if any(k.endswith("/*") for k in sources):
        return True
    catch_all = bool(settings.repo_channels) and settings.discord_channel_id == channel_id
    return len(sources) + int(catch_all) >= 2


def name_template(settings: Settings, channel_id: int) -> str:
    """Return the thread name template for a channel."""
    shared = shared_channel(settings, channel_id)
    return render.effective_template(settings.thread_name_template, shared)


def skip_reason(settings: Settings, subject: Subject) -> str | None:
    """Return why this PR gets no thread (filters), or None when it gets one."""
    if subject.author.is_bot and not settings.include_bot_prs:
        return "authored by a bot"
    if subject.author.login.casefold() in {a.casefold() for a in settings.excluded_authors}:
        return "excluded author"
    excluded = {label.casefold() for label in settings.excluded_labels}
    if any(label.casefold() in excluded for label in subject.labels):
        return "excluded label"
    if settings.draft_quiet and subject.draft:
        return "draft (DRAFT_QUIET)"
    return None


def tag_names(settings: Settings) -> dict[str, str]:
    """Return status key -> forum tag name, defaults overridden by FORUM_TAGS."""
    names = dict(DEFAULT_TAG_NAMES)
    for key, name in settings.forum_tags.items():
        names[key.casefold().replace(" ", "_").replace("-", "_")] = name
    return names


@dataclass(frozen=True)
class Deps:
    """Everything the PR functions need, built once per process."""

    settings: Settings
    store: Store
    discord: DiscordAdapter
    users: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, store: Store, discord: DiscordAdapter) -> Deps:
        """Return deps with the user mapping loaded from the settings."""
        return cls(settings, store, discord, load_users(settings))

    def discord_id(self, login: str | None) -> int | None:
        """Return the Discord user id mapped to a GitHub login, if any."""
        return self.users.get(login.casefold()) if login else None
