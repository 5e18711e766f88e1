"""Fixtures of the PR domain tests: the fake Discord world and the REST adapter on it."""

from tests.discord.world import adapter, fast_sleeps, world

__all__ = ["adapter", "fast_sleeps", "world"]
