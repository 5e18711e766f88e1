"""`prbot check`, the part that looks: settings, Redis, Discord channels and permissions, GitHub.

Only reads: nothing is created, posted or stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from bot.discord import permissions
from bot.discord.application import app_facts
from bot.discord.facts import TIMEOUT_S, DiscordFacts, FetchError
from bot.discord.rest import DiscordRestAdapter
from bot.ops.check.durability import (
    eviction_check,
    persistence_check,
    unreadable_check,
)
from bot.ops.check.github_probe import github_checks
from bot.ops.check.verdicts import (
    Report,
    Target,
    application_checks,
    channel_check,
    parse_settings,
    permission_check,
    policy_checks,
    redact_url,
    secret_checks,
    tags_check,
    targets,
)
from bot.runtime import PrbotError, Store
from bot.settings import Settings


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
        report.add("Redis", "ok", f"{where} answers")
        await durability_checks(store, report)  # reports its own failures
    except (PrbotError, TimeoutError) as exc:
        report.add("Redis", "fail", f"{where} does not answer: {exc or type(exc).__name__}")
    finally:
        await store.close()


async def durability_checks(store: Store, report: Report) -> None:
    """Say what a Redis crash or restart can lose, from the server's own settings."""
    try:
        found = await asyncio.wait_for(store.reads.persistence(), TIMEOUT_S)
    except (PrbotError, TimeoutError) as exc:
        unreadable_check(str(exc) or type(exc).__name__, report)
        return
    if found.embedded:
        why = "embedded in-process store, nothing survives a restart"
        report.add("Redis persistence", "warn", why)
        return
    if found.unreadable:
        unreadable_check(found.unreadable, report)
        return
    persistence_check(found.config, report)
    eviction_check(found.config, report)


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
        app = app_facts(client)
        if app is not None:
            application_checks(settings, app, report)
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


async def run_checks(values: Mapping[str, str]) -> tuple[Report, str | None]:
    """Run every check on the environment-style `values`; return the rows and an invite URL."""
    report = Report()
    settings = parse_settings(values, report)
    if settings is None:
        return report, None
    secret_checks(settings, report)
    policy_checks(settings, report)
    await redis_check(settings, report)
    invite = await discord_checks(settings, report)
    await github_checks(settings, report)
    return report, invite
