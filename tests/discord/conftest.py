"""Fixtures of the Discord adapter tests."""

from tests.discord.gateway_world import fakes
from tests.discord.world import adapter, fast_sleeps, world

__all__ = ["adapter", "fakes", "fast_sleeps", "world"]
