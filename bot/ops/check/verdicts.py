"""`prbot check`, the pure part: each check's verdict from settings or fetched data, and the table.

No I/O here: `probe` pings Redis and asks Discord, then hands what it found to these functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError

from bot.discord import permissions
from bot.discord.application import AppFacts
from bot.discord.facts import FORUM_TYPES, ChannelData, GuildData
from bot.discord.gateway import PORTAL_HINT
from bot.discord.permissions import Member
from bot.prs import render
from bot.prs.routing import OPTIONAL_TAGS, tag_names
from bot.prs.users import UserMapError, load_users
from bot.settings import Settings, load_settings, settings_errors

Status = Literal["ok", "fail", "warn", "skip"]
MARKS: dict[Status, str] = {"ok": "✔", "fail": "✘", "warn": "!", "skip": "–"}
# https://discord.com/developers/docs/resources/channel#channel-object-channel-types
TEXT_TYPES = {0: "text channel"}
KIND_NAMES = {2: "voice channel", 4: "category", 5: "announcement channel", 13: "stage channel"}
KIND_NAMES |= {10: "announcement thread", 11: "thread", 12: "private thread"}


@dataclass(frozen=True)
class Check:
    """One row of the table: what was checked, the verdict, and a line saying why."""

    name: str
    status: Status
    detail: str


@dataclass(frozen=True)
class Target:
    """A channel the settings send things to, and why (`default`, `owner/*`, `alerts`)."""

    channel_id: int
    uses: tuple[str, ...]
    alerts: bool = False

    @property
    def label(self) -> str:
        """Return how the table names this channel."""
        return f"channel {self.channel_id} ({', '.join(self.uses)})"


@dataclass
class Report:
    """The rows gathered so far."""

    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, status: Status, detail: str) -> Check:
        """Append a row and return it."""
        check = Check(name, status, detail)
        self.checks.append(check)
        return check

    def count(self, status: Status) -> int:
        """Return how many rows have `status`."""
        return sum(c.status == status for c in self.checks)

    @property
    def failed(self) -> bool:
        """Tell whether any row is a ✘."""
        return self.count("fail") > 0


def parse_settings(values: Mapping[str, str], report: Report) -> Settings | None:
    """Validate the settings (one row); None when they do not parse."""
    try:
        settings = load_settings(values)
    except ValidationError as exc:
        report.add("settings", "fail", "; ".join(settings_errors(exc)))
        return None
    report.add("settings", "ok", "parse")
    return settings


def secret_checks(settings: Settings, report: Report) -> None:
    """Say whether each secret is set, never what it is."""
    if settings.github_webhook_secret is not None:
        report.add("GITHUB_WEBHOOK_SECRET", "ok", "set")
    elif settings.allow_unsigned_webhooks:
        why = "missing; ALLOW_UNSIGNED_WEBHOOKS=true accepts unsigned deliveries (development only)"
        report.add("GITHUB_WEBHOOK_SECRET", "warn", why)
    else:
        report.add("GITHUB_WEBHOOK_SECRET", "fail", "missing: `prbot serve` refuses to start")
    if settings.discord_token is not None:
        report.add("DISCORD_TOKEN", "ok", "set")
    else:
        why = "missing: `prbot serve` refuses to start (`prbot serve --dry-run` posts nothing)"
        report.add("DISCORD_TOKEN", "fail", why)


def targets(settings: Settings) -> list[Target]:
    """Return every channel the settings route to, the alert and digest channels last."""
    uses: dict[int, list[str]] = {}
    if settings.discord_channel_id is not None:
        uses.setdefault(settings.discord_channel_id, []).append("default")
    for repo, channel in settings.repo_channels.items():
        uses.setdefault(int(channel), []).append(repo)
    found = [Target(cid, tuple(names)) for cid, names in uses.items()]
    if settings.discord_alert_channel_id is not None:
        found.append(Target(settings.discord_alert_channel_id, ("alerts",), alerts=True))
    if settings.digest_cron is not None and settings.digest_channel_id is not None:
        found.append(Target(settings.digest_channel_id, ("digest",), alerts=True))
    return found


def policy_checks(settings: Settings, report: Report) -> None:
    """Check routing, the thread name template and the user mapping."""
    routed = [t for t in targets(settings) if not t.alerts]
    if routed:
        report.add(
            "routing", "ok", "; ".join(f"{', '.join(t.uses)} → {t.channel_id}" for t in routed)
        )
    else:
        report.add("routing", "fail", "no DISCORD_CHANNEL_ID or REPO_CHANNELS: threads go nowhere")
    try:
        render.check_template(settings.thread_name_template)
    except ValueError as exc:
        report.add("THREAD_NAME_TEMPLATE", "fail", str(exc))
    try:
        users = load_users(settings)
    except UserMapError as exc:
        report.add("user mapping", "fail", str(exc))
    else:
        report.add("user mapping", "ok", f"{len(users)} GitHub logins mapped" if users else "none")


def redact_url(url: str) -> str:
    """Return `url` with any password replaced by `***`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def channel_check(target: Target, channel: ChannelData, report: Report) -> bool:
    """Check the channel's kind fits its use; True when it does."""
    kinds = TEXT_TYPES if target.alerts else TEXT_TYPES | FORUM_TYPES
    kind = kinds.get(channel.type)
    if kind is not None:
        report.add(target.label, "ok", f"#{channel.name}: {kind}")
        return True
    found = (TEXT_TYPES | FORUM_TYPES | KIND_NAMES).get(
        channel.type, f"channel type {channel.type}"
    )
    wanted = "a text channel" if target.alerts else "a text or forum channel"
    report.add(target.label, "fail", f"#{channel.name} is a {found}, not {wanted}")
    return False


def required_permissions(target: Target, channel: ChannelData) -> int:
    """Return what the bot needs in this channel for its use."""
    if target.alerts:
        return int(permissions.ALERT_CHANNEL)
    return int(permissions.FORUM_CHANNEL if channel.forum else permissions.THREAD_CHANNEL)


def permission_check(
    target: Target, channel: ChannelData, guild: GuildData, member: Member, report: Report
) -> Check:
    """Compute the bot's permissions in the channel and name what is missing."""
    base = permissions.base_permissions(guild.id, guild.owner_id, guild.roles, member)
    allowed = permissions.channel_permissions(base, guild.id, member, channel.overwrites)
    effective = permissions.implicit(allowed, in_threads=not target.alerts)
    required = required_permissions(target, channel)
    lacking = permissions.missing(effective, required)
    name = f"permissions in {target.channel_id}"
    if "VIEW_CHANNEL" in lacking:
        return report.add(name, "fail", "missing VIEW_CHANNEL, so Discord denies all the others")
    if lacking:
        return report.add(name, "fail", "missing " + ", ".join(lacking))
    return report.add(name, "ok", "has " + ", ".join(permissions.missing(0, required)))


def tags_check(settings: Settings, channel: ChannelData, report: Report) -> None:
    """Check a forum has a tag for every PR status prbot applies."""
    have = {t.casefold() for t in channel.tags}
    names = tag_names(settings)
    wanted = list(dict.fromkeys(names.values()))
    optional = {names[k] for k in OPTIONAL_TAGS if k in names}
    absent = [n for n in wanted if n.casefold() not in have]
    name = f"forum tags in {channel.id}"
    hint = "create them in the forum, or map status names with FORUM_TAGS"
    if any(n not in optional for n in absent):
        report.add(name, "fail", f"missing {', '.join(absent)}: {hint}")
    elif absent:  # only tags a forum may go without (prbot then applies the others)
        report.add(name, "warn", f"missing {', '.join(absent)} (optional): {hint}")
    else:
        report.add(name, "ok", ", ".join(wanted))


def _scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def format_table(checks: Sequence[Check], secrets: Iterable[str] = ()) -> str:
    """Return the ✔/✘ table, one check a line, with any secret value blanked out."""
    hidden = [s for s in secrets if len(s) >= 4]
    width = max((len(c.name) for c in checks), default=0)
    lines = [f"{MARKS[c.status]} {c.name.ljust(width)}  {c.detail}" for c in checks]
    return _scrub("\n".join(lines), hidden)


def summary(checks: Sequence[Check]) -> str:
    """Return the closing line: all good, or how many problems."""
    failed = sum(c.status == "fail" for c in checks)
    warned = sum(c.status == "warn" for c in checks)
    if failed:
        plural = "s" if failed > 1 else ""
        return f"{failed} problem{plural}: fix the ✘ rows and run `prbot check` again"
    note = f" ({warned} warning{'s' if warned > 1 else ''}, marked !)" if warned else ""
    return f"all checks passed{note}"


def application_checks(settings: Settings, app: AppFacts, report: Report) -> None:
    """Check the MESSAGE_CONTENT intent (the gateway) and the interactions key and endpoint."""
    if app.message_content:
        report.add("MESSAGE_CONTENT intent", "ok", "enabled: the gateway reads PR-thread replies")
    else:
        report.add(
            "MESSAGE_CONTENT intent", "warn", f"not enabled (application flags); {PORTAL_HINT}"
        )
    if settings.discord_application_id not in (None, app.id):
        why = f"is {settings.discord_application_id}, but the bot's application is {app.id}"
        report.add("DISCORD_APPLICATION_ID", "fail", why)
    key = settings.discord_public_key
    if key is None:
        report.add(
            "slash commands", "skip", "DISCORD_PUBLIC_KEY not set: /discord/interactions is off"
        )
    elif key != app.verify_key.lower():
        why = "DISCORD_PUBLIC_KEY is not this application's public key (General Information)"
        report.add("slash commands", "fail", why)
    else:
        url = app.interactions_endpoint_url
        where = (
            f"endpoint {url}"
            if url
            else (
                "no Interactions Endpoint URL in the Developer Portal yet: set it to "
                "https://YOUR-HOST/discord/interactions"
            )
        )
        report.add("slash commands", "ok" if url else "warn", f"public key matches; {where}")
