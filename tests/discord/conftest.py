"""Fixtures of the Discord adapter tests."""

from tests.discord.world import adapter, fast_sleeps, keep_route_base, world

__all__ = ["adapter", "fast_sleeps", "keep_route_base", "world"]
