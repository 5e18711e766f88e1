"""What PR functions depend on: settings, store, Discord, GitHub (if any) and the user mapping."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.discord import DiscordAdapter
from bot.github.api import GitHubAdapter
from bot.prs.users import UserMap, load_users
from bot.runtime import Store
from bot.settings import Settings


@dataclass(frozen=True)
class Deps:
    """Everything the PR functions need, built once per process."""

    settings: Settings
    store: Store
    discord: DiscordAdapter
    users: Mapping[str, int] = field(default_factory=dict)
    github: GitHubAdapter | None = None  # None: no API access (or a process that never calls)

    @classmethod
    def build(
        cls,
        settings: Settings,
        store: Store,
        discord: DiscordAdapter,
        github: GitHubAdapter | None = None,
    ) -> Deps:
        """Return deps with the user mapping loaded from the settings."""
        return cls(settings, store, discord, load_users(settings), github)

    def discord_id(self, login: str | None) -> int | None:
        """Return the Discord user id the settings map a GitHub login to, if any."""
        return self.users.get(login.casefold()) if login else None

    @property
    def user_map(self) -> UserMap:
        """Return the user map in the store, seeded by the settings."""
        return UserMap(self.store, self.users)
