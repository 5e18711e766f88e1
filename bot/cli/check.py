"""`prbot check`: validate a configuration before the first webhook arrives; print ✔/✘ rows.

Settings, Redis, the Discord login, every routed channel, the bot's permissions there and forum
tags. Only reads: nothing is created, posted or stored. Secrets show as "set" or "missing".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import discord
from pydantic import BaseModel, ConfigDict, ValidationError

from bot.discord import permissions
from bot.discord.adapter import DiscordRestAdapter
from bot.discord.permissions import Member, Overwrite
from bot.ops.check import (
    ChannelData,
    GuildData,
    Report,
    Target,
    channel_check,
    format_table,
    parse_settings,
    permission_check,
    policy_checks,
    redact_url,
    secret_checks,
    summary,
    tags_check,
    targets,
)
from bot.ops.logs import configure
from bot.runtime import PrbotError, Store
from bot.settings import Settings

# A check must answer, not hang: each network call gets this long.
TIMEOUT_S = 15.0
SECRET_NAMES = ("GITHUB_WEBHOOK_SECRET", "DISCORD_TOKEN")


class FetchError(Exception):
    """Discord would not show something the check needs; the message says what and why."""


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Overwrite(_Payload):
    id: int
    type: int
    allow: int = 0
    deny: int = 0


class _Tag(_Payload):
    name: str


class _Channel(_Payload):
    id: int
    type: int
    name: str = ""
    guild_id: int | None = None
    permission_overwrites: list[_Overwrite] = []
    available_tags: list[_Tag] = []


class _Role(_Payload):
    id: int
    permissions: int = 0


class _Guild(_Payload):
    id: int
    name: str = ""
    owner_id: int
    roles: list[_Role] = []


class _Member(_Payload):
    roles: list[int] = []


P = TypeVar("P", bound=_Payload)


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
        ch = _parse(_Channel, data, f"channel {channel_id}")
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
            guild = _parse(_Guild, data, f"server {guild_id}")
            what = f"the bot's membership of {guild_id}"
            member_data = await self._get(f"{what}: ", http.get_member(guild_id, bot_id))
            member = Member(bot_id, frozenset(_parse(_Member, member_data, what).roles))
            roles = {r.id: r.permissions for r in guild.roles}
            self._guilds[guild_id] = (
                GuildData(guild.id, guild.name, guild.owner_id, roles),
                member,
            )
        return self._guilds[guild_id]


async def redis_check(settings: Settings, report: Report) -> None:
    """Ping Redis, or say plainly that the embedded store keeps nothing."""
    if settings.redis_url is None:
        why = "REDIS_URL not set: embedded in-process store, nothing survives a restart"
        report.add("Redis", "warn", why)
        return
    where = redact_url(settings.redis_url)
    store = Store.connect(settings.redis_url, settings.redis_key_prefix)
    try:
        await asyncio.wait_for(store.ping(), TIMEOUT_S)
    except (PrbotError, TimeoutError) as exc:
        report.add("Redis", "fail", f"{where} does not answer: {exc or type(exc).__name__}")
    else:
        report.add("Redis", "ok", f"{where} answers")
    finally:
        await store.close()


async def _login(settings: Settings, report: Report) -> DiscordRestAdapter | None:
    if settings.discord_token is None:
        report.add("Discord", "skip", "no DISCORD_TOKEN: channels and permissions not checked")
        return None
    token = settings.discord_token.get_secret_value()
    try:
        login = DiscordRestAdapter.login(token, settings.discord_api_base)
        adapter = await asyncio.wait_for(login, TIMEOUT_S)
    except (PrbotError, TimeoutError) as exc:
        report.add("Discord login", "fail", str(exc) or "no answer from Discord")
        return None
    user = adapter.client.user
    who = f"{user.name} (id {user.id})" if user else "?"
    report.add("Discord login", "ok", f"logged in as {who} at {settings.discord_api_base}")
    return adapter


async def _check_target(
    settings: Settings, facts: DiscordFacts, target: Target, bot_id: int, report: Report
) -> None:
    try:
        channel = await facts.channel(target.channel_id)
        if not channel_check(target, channel, report):
            return
        if channel.guild_id is None:
            report.add(f"permissions in {target.channel_id}", "fail", "not a server channel")
            return
        guild, member = await facts.guild(channel.guild_id, bot_id)
    except FetchError as exc:
        report.add(target.label, "fail", str(exc))
        return
    permission_check(target, channel, guild, member, report)
    if channel.forum and not target.alerts:
        tags_check(settings, channel, report)


async def discord_checks(settings: Settings, report: Report) -> str | None:
    """Log in and check each routed channel; return the invite URL when something is missing."""
    adapter = await _login(settings, report)
    if adapter is None:
        return None
    try:
        client = adapter.client
        bot_id = client.user.id if client.user else 0
        facts = DiscordFacts(client)
        first = len(report.checks)
        for target in targets(settings):
            await _check_target(settings, facts, target, bot_id, report)
        # Missing tags are fixed in the forum; a missing channel or permission may be the invite.
        found = report.checks[first:]
        wrong = any(c.status == "fail" and not c.name.startswith("forum tags") for c in found)
        app_id = client.application_id
        return permissions.invite_url(app_id) if wrong and app_id else None
    finally:
        await adapter.close()


def secrets_in(values: Mapping[str, str]) -> list[str]:
    """Return the secret values present (and Redis's password), blanked out of all output."""
    found = [values[name].strip() for name in SECRET_NAMES if values.get(name, "").strip()]
    password = urlsplit(values.get("REDIS_URL", "").strip()).password
    return [*found, password] if password else found


async def run_checks(values: Mapping[str, str]) -> tuple[Report, str | None]:
    """Run every check on the environment-style `values`; return the rows and an invite URL."""
    report = Report()
    settings = parse_settings(values, report)
    if settings is None:
        return report, None
    secret_checks(settings, report)
    policy_checks(settings, report)
    await redis_check(settings, report)
    return report, await discord_checks(settings, report)


async def check_command(values: Mapping[str, str]) -> int:
    """Print the ✔/✘ table for the configuration in `values`; 1 when anything is wrong."""
    secrets = secrets_in(values)
    configure("WARNING", "text", secrets)  # redis and discord.py problems, redacted
    # Not for a check: discord.py warns about the gateway intents and voice it never uses here.
    logging.getLogger("discord").setLevel(logging.ERROR)
    report, invite = await run_checks(values)
    print(format_table(report.checks, secrets))
    if invite:
        print(f"\nInvite (or re-invite) the bot with the permissions it needs:\n  {invite}")
    print(summary(report.checks))
    return 1 if report.failed else 0
