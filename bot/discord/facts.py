"""Read-only facts `prbot check` needs from Discord: a channel's overwrites, a guild's roles."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

from bot.discord.http import discord
from bot.discord.payloads import Channel, Guild, GuildMember, Payload
from bot.discord.permissions import Member, Overwrite

# A check must answer, not hang: each network call gets this long.
TIMEOUT_S = 15.0
# https://discord.com/developers/docs/resources/channel#channel-object-channel-types
FORUM_TYPES = {15: "forum channel", 16: "media channel"}


@dataclass(frozen=True)
class GuildData:
    """What permissions are computed from: the guild's owner and each role's permissions."""

    id: int
    name: str
    owner_id: int
    roles: Mapping[int, int]


@dataclass(frozen=True)
class ChannelData:
    """A channel as Discord describes it: kind, guild, overwrites and forum tag names."""

    id: int
    type: int
    name: str
    guild_id: int | None
    overwrites: tuple[Overwrite, ...] = ()
    tags: tuple[str, ...] = ()

    @property
    def forum(self) -> bool:
        """Tell whether posts here are forum posts."""
        return self.type in FORUM_TYPES


class FetchError(Exception):
    """Discord would not show something the check needs; the message says what and why."""


P = TypeVar("P", bound=Payload)


def _parse(model: type[P], data: object, what: str) -> P:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise FetchError(
            f"{what}: unexpected answer from Discord ({exc.error_count()} errors)"
        ) from exc


def _why(exc: discord.HTTPException) -> str:
    if exc.status == 404:
        return "does not exist, or the bot is not in its server"
    if exc.status == 403:
        return "the bot has no access (invite it, or let it see the channel)"
    return f"Discord {exc.status}: {exc.text or exc.response.reason}"


class DiscordFacts:
    """Read-only Discord lookups for the check, over the logged-in discord.py client."""

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        self._guilds: dict[int, tuple[GuildData, Member]] = {}

    async def _get(self, what: str, call: Awaitable[Any]) -> Any:
        try:
            return await asyncio.wait_for(call, TIMEOUT_S)
        except discord.HTTPException as exc:
            raise FetchError(f"{what}{_why(exc)}") from exc
        except (TimeoutError, OSError) as exc:
            raise FetchError(f"{what}no answer from Discord ({type(exc).__name__})") from exc

    async def channel(self, channel_id: int) -> ChannelData:
        """Return the channel's kind, overwrites and forum tags."""
        data = await self._get("", self.client.http.get_channel(channel_id))
        ch = _parse(Channel, data, f"channel {channel_id}")
        overwrites = tuple(
            Overwrite(o.id, o.type, o.allow, o.deny) for o in ch.permission_overwrites
        )
        tags = tuple(t.name for t in ch.available_tags)
        return ChannelData(ch.id, ch.type, ch.name, ch.guild_id, overwrites, tags)

    async def guild(self, guild_id: int, bot_id: int) -> tuple[GuildData, Member]:
        """Return the guild's owner and roles, and the bot's roles in it (cached)."""
        if guild_id not in self._guilds:
            http = self.client.http
            data = await self._get(f"server {guild_id}: ", http.get_guild(guild_id))
            guild = _parse(Guild, data, f"server {guild_id}")
            what = f"the bot's membership of {guild_id}"
            member_data = await self._get(f"{what}: ", http.get_member(guild_id, bot_id))
            member = Member(bot_id, frozenset(_parse(GuildMember, member_data, what).roles))
            roles = {r.id: r.permissions for r in guild.roles}
            self._guilds[guild_id] = (
                GuildData(guild.id, guild.name, guild.owner_id, roles),
                member,
            )
        return self._guilds[guild_id]
