"""A fake GitHub REST API on loopback that githubkit talks to over real HTTP.

    async with FakeGitHub() as fake:
        repo = fake.add_repo("acme/widgets")
        pr = fake.add_pull(repo, title="Add a widget")
        token = fake.add_token("octocat")
        github = GitHub(TokenAuthStrategy(token.value), base_url=fake.api_base, auto_retry=False)

Run it as its own process (prints one JSON line with the api base and seeded credentials):

    python -m tests.fakes.github_server --port P --p5xx 0.1 --p-lost 0.05 --seed 1
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiohttp import web

from tests.fakes.discord_clock import FakeClock
from tests.fakes.github_api import GitHubApi
from tests.fakes.github_auth import generate_app_key
from tests.fakes.github_calls import World
from tests.fakes.github_hooks import Hooks
from tests.fakes.github_json import Render
from tests.fakes.github_rules import JSONObject
from tests.fakes.github_seeding import GitHubSeeding
from tests.fakes.github_state import GitHubState
from tests.fakes.github_traffic import FaultPlan, RateLimiter, RequestLog
from tests.fakes.http_fake import ControlledFake, fake_parser, serve_until_signalled


class FakeGitHub(ControlledFake, GitHubSeeding):
    """A fake GitHub REST API server with GitHub's auth, rate limits, webhooks and faults.

    Seed through the ``add_*`` methods (or ``fake.state`` directly); push time with
    ``advance`` (token expiry, JWT windows, rate-limit resets); queue failures on
    ``fake.faults``; count calls on ``fake.requests``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        prefix: str = "",
        clock: FakeClock | None = None,
        faults: FaultPlan | None = None,
        rate_limits: Mapping[str, int] | None = None,
        writes_per_minute: int = 80,
        writes_per_hour: int = 500,
        primary_status: int = 403,
        jwt_clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(host=host, port=port)
        self.clock = clock or FakeClock()
        self.state = GitHubState(self.clock)
        self.hooks = Hooks(self.state)
        self.limiter = RateLimiter(
            self.clock,
            limits=rate_limits,
            writes_per_minute=writes_per_minute,
            writes_per_hour=writes_per_hour,
            primary_status=primary_status,
        )
        self.requests = RequestLog()
        self.api = GitHubApi(
            world=World(self.state, self.hooks, Render("http://fake-github.invalid")),
            faults=faults or FaultPlan(),
            limiter=self.limiter,
            requests=self.requests,
            prefix=prefix,
            # App JWTs are signed with the client machine's clock, which ``advance`` cannot
            # move: by default they are judged by wall time (clocks in sync), so App auth keeps
            # working after the fake clock jumps. Pass ``jwt_clock=clock.now`` to judge them on
            # the fake clock instead (a JWT then expires when the fake clock passes its exp).
            jwt_clock=jwt_clock or time.time,
        )
        self._prefix = prefix

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind to the host and port (0 = any free port) and start serving."""
        await super().start()
        self.api.world.render = Render(self.api_base)

    async def stop(self) -> None:
        """Finish background redeliveries, stop serving and close every connection."""
        await self.hooks.close()
        await super().stop()

    def api_application(self) -> web.Application:
        """Return the application serving the REST API under the prefix."""
        return self.api.application()

    @property
    def api_base(self) -> str:
        """The value for githubkit's ``base_url`` (and ``GITHUB_API_BASE``)."""
        return self.base_url + self._prefix

    @property
    def faults(self) -> FaultPlan:
        """The fault plan in force; change it in place or assign a new one."""
        return self.api.faults

    @faults.setter
    def faults(self, plan: FaultPlan) -> None:
        self.api.faults = plan

    # -- inspection ----------------------------------------------------------------------------

    def snapshot(self) -> JSONObject:
        """Return counts, request counters and the fault plan as JSON (``GET /_fake/state``)."""
        state = self.state
        return {
            "now": self.now(),
            "repos": [repo.full_name for repo in state.repos.values()],
            "comments": len(state.comments),
            "review_comments": len(state.review_comments),
            "deliveries": len(state.deliveries),
            "requests": self.requests.to_json(),
            "faults": self.faults.to_json(),
        }


# -- running as a process ----------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = fake_parser(__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repo", default="acme/widgets")
    parser.add_argument("--hook-url", default=None, help="target of the repository webhook")
    parser.add_argument("--hook-secret", default="fake-webhook-secret")
    parser.add_argument("--p-lost", type=float, default=0.0, help="done, then answered 502/504")
    parser.add_argument("--p-drop", type=float, default=0.0, help="done, then no answer at all")
    return parser.parse_args(argv)


def _seed_demo(fake: FakeGitHub, args: argparse.Namespace) -> dict[str, Any]:
    """Seed a repository, a PR, a token and an installed App; return what a client needs."""
    repo = fake.state.add_repo(args.repo)
    pr = fake.state.add_pull(repo, title="Add a widget")
    token = fake.state.add_token("octocat")
    private_pem, public_pem = generate_app_key()
    app = fake.state.add_app("prbot-fake", public_pem)
    installation = fake.state.install(app, repo.owner.login)
    seeded: dict[str, Any] = {
        "api_base": fake.api_base,
        "repo": repo.full_name,
        "pull_number": pr.number,
        "head_sha": pr.head_sha,
        "token": token.value,
        "app_id": app.id,
        "app_slug": app.slug,
        "installation_id": installation.id,
        "private_key_pem": private_pem,
        "state_url": fake.base_url + "/_fake/state",
    }
    if args.hook_url:
        hook = fake.add_repo_hook(repo, args.hook_url, args.hook_secret)
        seeded["hook"] = f"repos/{repo.full_name}/hooks/{hook.id}"
    return seeded


async def serve(args: argparse.Namespace) -> None:
    """Run the fake until SIGINT/SIGTERM, after printing its seeded credentials as one line."""
    faults = FaultPlan(
        p5xx=args.p5xx,
        p_lost=args.p_lost,
        p_drop=args.p_drop,
        latency_ms=args.latency_ms,
        seed=args.seed,
    )
    fake = FakeGitHub(host=args.host, port=args.port, faults=faults)
    await serve_until_signalled(fake, lambda: _seed_demo(fake, args))


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m tests.fakes.github_server``."""
    asyncio.run(serve(args=_parse_args(argv)))


if __name__ == "__main__":
    main(sys.argv[1:])
