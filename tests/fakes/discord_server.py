"""A fake Discord REST API on loopback that discord.py talks to over real HTTP.

    async with FakeDiscord() as fake:
        guild = fake.add_guild()
        channel = fake.add_text_channel(guild.id)
        discord.http.Route.BASE = fake.api_base
        await client.login(fake.token)

Run it as its own process (prints one JSON line with the api base and seeded ids, then serves):

    python -m tests.fakes.discord_server --port P --latency-ms 50 --p429 0.05 --p5xx 0.1 --seed 1

`--p-lost 0.1` carries out 10% of writes and then loses their answer (a 502 or a dropped
connection); `--nonce-window-s 1` forgets message nonces after a second instead of five minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from tests.fakes.discord_api import API_PREFIX, DiscordApi
from tests.fakes.discord_clock import FakeClock
from tests.fakes.discord_models import (
    BOT_ROLE_PERMISSIONS,
    Channel,
    Guild,
    JSONObject,
    Message,
    Role,
    Thread,
)
from tests.fakes.discord_state import DiscordState, TagSpec
from tests.fakes.discord_traffic import FaultPlan, RateLimiter, RequestLog
from tests.fakes.http_fake import ControlledFake, fake_parser, serve_until_signalled


class FakeDiscord(ControlledFake):
    """A fake Discord REST API server with Discord's rules, rate limits and injectable faults.

    ``advance`` moves the fake clock: rename window, nonce window, auto-archive.
    """

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        host: str = "127.0.0.1",
        port: int = 0,
        clock: FakeClock | None = None,
        faults: FaultPlan | None = None,
        route_limit: int = 5,
        route_window_s: float = 1.0,
        global_limit: int = 50,
        route_limits: Mapping[str, tuple[int, float]] | None = None,
        nonce_window_s: float = 300.0,
        rename_limit: int = 2,
        rename_window_s: float = 600.0,
    ) -> None:
        super().__init__(host=host, port=port)
        self.clock = clock or FakeClock()
        self.state = DiscordState(
            self.clock,
            nonce_window_s=nonce_window_s,
            rename_limit=rename_limit,
            rename_window_s=rename_window_s,
        )
        self.limiter = RateLimiter(
            self.clock,
            route_limit=route_limit,
            route_window_s=route_window_s,
            global_limit=global_limit,
            overrides=route_limits,
        )
        self.requests = RequestLog()
        self.api = DiscordApi(
            token=token,
            state=self.state,
            faults=faults or FaultPlan(),
            limiter=self.limiter,
            requests=self.requests,
        )

    @property
    def token(self) -> str:
        """The bot token the fake accepts (``Authorization: Bot <token>``)."""
        return self.api.token

    @property
    def faults(self) -> FaultPlan:
        """The fault plan in force; change it in place or assign a new one."""
        return self.api.faults

    @faults.setter
    def faults(self, plan: FaultPlan) -> None:
        self.api.faults = plan

    @property
    def nonce_window_s(self) -> float:
        """How long a message nonce deduplicates (Discord: "the past few minutes")."""
        return self.state.nonce_window_s

    @nonce_window_s.setter
    def nonce_window_s(self, seconds: float) -> None:
        self.state.nonce_window_s = seconds

    @property
    def api_base(self) -> str:
        """The value for ``discord.http.Route.BASE`` (and ``DISCORD_API_BASE``)."""
        return self.base_url + API_PREFIX

    # -- seeding and inspection ----------------------------------------------------------------

    def add_guild(
        self, name: str = "prbot-test", *, bot_permissions: int = BOT_ROLE_PERMISSIONS
    ) -> Guild:
        """Seed a guild that the bot is a member of."""
        return self.state.add_guild(name, bot_permissions=bot_permissions)

    def add_role(
        self, guild_id: int, name: str, *, permissions: int = 0, assign_to_bot: bool = False
    ) -> Role:
        """Seed a role, optionally held by the bot."""
        return self.state.add_role(
            guild_id, name, permissions=permissions, assign_to_bot=assign_to_bot
        )

    def add_text_channel(
        self,
        guild_id: int,
        name: str = "pull-requests",
        *,
        permission_overwrites: Sequence[JSONObject] = (),
    ) -> Channel:
        """Seed a text channel."""
        return self.state.add_text_channel(
            guild_id, name, permission_overwrites=permission_overwrites
        )

    def add_forum_channel(
        self,
        guild_id: int,
        name: str = "pull-requests-forum",
        *,
        tags: Sequence[TagSpec] = (),
        require_tag: bool = False,
        permission_overwrites: Sequence[JSONObject] = (),
    ) -> Channel:
        """Seed a forum channel with ``tags`` (names or tag dicts)."""
        return self.state.add_forum_channel(
            guild_id,
            name,
            tags=tags,
            require_tag=require_tag,
            permission_overwrites=permission_overwrites,
        )

    def threads_in(self, channel_id: int) -> list[Thread]:
        """Return the threads under a channel, oldest first."""
        return self.state.threads_in(channel_id)

    def messages_in(self, channel_id: int) -> list[Message]:
        """Return the messages in a channel or thread, oldest first."""
        return self.state.messages_in(channel_id)

    def snapshot(self) -> JSONObject:
        """Return state, request counters and fault plan as JSON (as GET /_fake/state)."""
        return {
            **self.state.snapshot(),
            "requests": self.requests.to_json(),
            "faults": self.faults.to_json(),
        }

    def api_application(self) -> web.Application:
        """Return the application serving ``/api/v10``."""
        return self.api.application()


# -- running as a process ----------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = fake_parser(__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--token", default="fake-bot-token")
    parser.add_argument("--p429", type=float, default=0.0)
    parser.add_argument(
        "--apply-then-fail", type=float, default=0.0, help="share of 5xx that still write"
    )
    parser.add_argument(
        "--retry-after", type=float, default=0.05, help="retry_after of injected 429s"
    )
    parser.add_argument(
        "--p-lost", type=float, default=0.0, help="share of writes done whose answer is lost"
    )
    parser.add_argument(
        "--nonce-window-s", type=float, default=300.0, help="how long a message nonce dedups"
    )
    parser.add_argument("--route-limit", type=int, default=5)
    return parser.parse_args(argv)


def _seed_demo(fake: FakeDiscord) -> dict[str, Any]:
    """Seed one guild with a text and a forum channel; return the ids a client needs."""
    guild = fake.add_guild()
    text = fake.add_text_channel(guild.id)
    forum = fake.add_forum_channel(guild.id, tags=["open", "draft", "merged", "closed"])
    return {
        "api_base": fake.api_base,
        "token": fake.token,
        "guild_id": str(guild.id),
        "text_channel_id": str(text.id),
        "forum_channel_id": str(forum.id),
        "forum_tags": {tag.name: str(tag.id) for tag in forum.available_tags},
        "state_url": fake.base_url + "/_fake/state",
    }


async def serve(args: argparse.Namespace) -> None:
    """Run the fake until SIGINT/SIGTERM, after printing its seeded ids as one JSON line."""
    faults = FaultPlan(
        p5xx=args.p5xx,
        p429=args.p429,
        retry_after_s=args.retry_after,
        latency_ms=args.latency_ms,
        p_apply_then_fail=args.apply_then_fail,
        p_lost=args.p_lost,
        seed=args.seed,
    )
    fake = FakeDiscord(
        token=args.token,
        host=args.host,
        port=args.port,
        faults=faults,
        route_limit=args.route_limit,
        nonce_window_s=args.nonce_window_s,
    )
    await serve_until_signalled(fake, lambda: _seed_demo(fake))


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m tests.fakes.discord_server``."""
    asyncio.run(serve(_parse_args(argv)))


if __name__ == "__main__":
    main(sys.argv[1:])
