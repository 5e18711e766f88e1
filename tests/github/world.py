"""Shared set-up for the GitHub door's tests: the fake GitHub, a store, and doors opened on them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from bot.github.api import GitHubAdapter
from bot.github.connect import open_github
from bot.github.shapes import RepoRef
from bot.runtime import Store
from bot.settings import load_settings
from tests.fakes.discord_clock import FakeClock
from tests.fakes.github_server import FakeGitHub
from tests.fakes.github_world import NAME, OWNER, GitHubWorld, seed


class DoorClock:
    """prbot's `Clock` reading the fake GitHub's clock, so both agree when a test moves time."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.skew_s = 0.0  # prbot's clock behind GitHub's by this much (negative: ahead)

    def now_ms(self) -> int:
        """Return the fake time in ms, minus any skew the test set."""
        return int((self.clock.now() - self.skew_s) * 1000)


@dataclass
class Slept:
    """A sleep that records how long it was asked to wait, and returns at once."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@dataclass
class Door:
    """A seeded fake GitHub, the store, and a way to open doors on them."""

    world: GitHubWorld
    store: Store
    clock: DoorClock
    sleep: Slept

    @property
    def fake(self) -> FakeGitHub:
        """Return the fake GitHub."""
        return self.world.fake

    @property
    def repo(self) -> RepoRef:
        """Return the seeded repository, with the App's installation as a delivery names it."""
        return RepoRef(OWNER, NAME, self.world.installation.id)

    def token_env(self, **extra: str) -> dict[str, str]:
        """Return settings that use the seeded personal token."""
        return {"GITHUB_TOKEN": self.world.token.value, "GITHUB_API_BASE": self.fake.api_base,
                **extra}  # fmt: skip

    def app_env(self, **extra: str) -> dict[str, str]:
        """Return settings that use the seeded App."""
        return {
            "GITHUB_APP_ID": str(self.world.app.id),
            "GITHUB_APP_PRIVATE_KEY": self.world.private_key,
            "GITHUB_API_BASE": self.fake.api_base,
            **extra,
        }

    def open(self, env: Mapping[str, str]) -> GitHubAdapter:
        """Open a door with these settings on the shared store, clock and sleep."""
        door = open_github(load_settings(env), self.store, clock=self.clock, sleep=self.sleep)
        assert door is not None
        return door


@asynccontextmanager
async def door_world(store: Store, **fake_options: object) -> AsyncIterator[Door]:
    """Start a seeded fake GitHub whose JWT checks follow its own (movable) clock."""
    clock = FakeClock()
    async with FakeGitHub(clock=clock, jwt_clock=clock.now, **fake_options) as fake:  # type: ignore[arg-type]
        yield Door(seed(fake), store, DoorClock(clock), Slept())
