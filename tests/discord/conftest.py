"""Fixtures of the Discord adapter tests."""

from tests.discord.gateway_world import fakes, keep_discord_bases
from tests.discord.world import adapter, fast_sleeps, keep_route_base, world

__all__ = [
    "adapter",
    "fakes",
    "fast_sleeps",
    "keep_discord_bases",
    "keep_route_base",
    "world",
]
