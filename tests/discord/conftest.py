"""Fixtures of the Discord adapter tests."""

from tests.discord.world import adapter, fast_sleeps, world

__all__ = ["adapter", "fast_sleeps", "world"]
