"""A scene with both fakes: prbot's functions on the fake Discord AND the fake GitHub, over HTTP.

The fake GitHub holds the `edits` and `ci` scenarios' repository and PRs, a personal token and
an installed App; the scene opens prbot's GitHub door on it with either.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Literal

import pytest

from bot.github.api import GitHubAdapter
from bot.github.connect import open_github
from bot.ops.serve import http_server
from bot.runtime import Store
from bot.settings import load_settings
from tests.discord.world import World
from tests.fakes.discord_clock import FakeClock
from tests.fakes.github_models import App, IssueComment, PullRequest, Repo, Token
from tests.fakes.github_server import FakeGitHub
from tests.fakes.github_world import app_key
from tests.functions.harness import SECRET, Harness
from tests.github.world import DoorClock, Slept
from tests.loopback import free_port

Mode = Literal["token", "app"]
EDITS_SHA = "4b7e2a9c1d3f5e7a9b0c2d4e6f8a0b1c3d5e7f90"
CI_SHA = "3f1c7d2e9a0b4c5d6e7f8091a2b3c4d5e6f70812"
MARKER = "<!-- prbot:thread -->"


@dataclass
class Scene:
    """prbot (the harness) with a GitHub door on the fake GitHub."""

    h: Harness
    fake: FakeGitHub
    repo: Repo
    prs: dict[int, PullRequest]
    token: Token
    app: App
    mode: Mode
    door: GitHubAdapter

    def comments(self, number: int = 49) -> list[IssueComment]:
        """Return the comments on a PR, oldest first."""
        return self.fake.comments_on(self.repo, number)

    def backlinks(self, number: int = 49) -> list[IssueComment]:
        """Return prbot's backlink comments on a PR."""
        return [c for c in self.comments(number) if MARKER in c.body]

    def posts(self) -> int:
        """Return how many comment POSTs the fake GitHub answered (any status)."""
        route = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
        return self.fake.requests.count(method="POST", route=route)

    @contextlib.asynccontextmanager
    async def listening(self) -> AsyncIterator[str]:
        """Serve prbot's receiver on a loopback port; yield its webhook URL."""
        port = free_port()
        server = http_server(self.h.app, "127.0.0.1", port)
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{port}/webhooks/github"
        finally:
            server.should_exit = True
            await task


def seed(fake: FakeGitHub) -> tuple[Repo, dict[int, PullRequest], Token, App]:
    """Seed the scenarios' repository, PRs #48 and #49, a token and an installed App."""
    repo = fake.add_repo("octo-org/hello-world")
    prs = {
        49: fake.add_pull(repo, number=49, title="Document the LANG variable", head_sha=EDITS_SHA,
                          head_ref="docs-lang", labels=["documentation"],
                          requested_reviewers=["hubot"]),
        48: fake.add_pull(repo, number=48, title="Speed up greeting lookups", head_sha=CI_SHA,
                          head_ref="faster-lookups", author="codercat"),
    }  # fmt: skip
    token = fake.add_token("prbot-bot")
    _, public = app_key()
    app = fake.add_app("prbot", public)
    fake.install(app, "octo-org")
    return repo, prs, token, app


def env_for(mode: Mode, fake: FakeGitHub, token: Token, app: App, **extra: str) -> dict[str, str]:
    """Return the GitHub settings of a mode."""
    if mode == "token":
        access = {"GITHUB_TOKEN": token.value}
    else:
        access = {"GITHUB_APP_ID": str(app.id), "GITHUB_APP_PRIVATE_KEY": app_key()[0]}
    return {**access, "GITHUB_API_BASE": fake.api_base, **extra}


@pytest.fixture(params=["token", "app"])
async def make_scene(
    request: pytest.FixtureRequest,
    make_harness: Callable[..., Any],
    world: World,
    scenario_store: Store,
) -> AsyncIterator[Callable[..., Any]]:
    """Yield `make(**env)`: a scene in the parametrized auth mode."""
    mode: Mode = request.param
    clock = FakeClock()
    doors: list[GitHubAdapter] = []
    async with FakeGitHub(clock=clock, jwt_clock=clock.now) as fake:

        async def make(**extra: str) -> Scene:
            repo, prs, token, app = seed(fake) if not fake.state.repos else _seeded(fake)
            env = env_for(mode, fake, token, app, **extra)
            door = open_github(
                load_settings(env), scenario_store, clock=DoorClock(clock), sleep=Slept()
            )
            assert door is not None
            doors.append(door)
            h: Harness = await make_harness(github=door, **env)
            h.clocks.append(fake.advance)
            return Scene(h, fake, repo, prs, token, app, mode, door)

        yield make
        for door in doors:
            await door.close()


def _seeded(fake: FakeGitHub) -> tuple[Repo, dict[int, PullRequest], Token, App]:
    repo = next(iter(fake.state.repos.values()))
    prs = {n: pr for (_, n), pr in fake.state.pulls.items()}
    token = next(t for t in fake.state.tokens.values() if t.kind == "classic")
    app = next(iter(fake.state.apps.values()))
    return repo, prs, token, app


__all__ = ["SECRET", "Scene", "make_scene"]
