"""Fixtures of the scenario tests: the fake Discord world and the harness."""

from tests.discord.world import adapter, fast_sleeps, world
from tests.functions.github_scene import make_scene
from tests.functions.harness import make_harness, scenario_store

__all__ = ["adapter", "fast_sleeps", "make_harness", "make_scene", "scenario_store", "world"]
