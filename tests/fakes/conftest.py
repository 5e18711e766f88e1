"""Fixtures of the fake gateway's tests."""

from tests.fakes.gateway_world import channel, discord_bases, guild, gw, rest

__all__ = ["channel", "discord_bases", "guild", "gw", "rest"]
