"""One settings object, built from a mapping: the environment plus `.env`, read at entry."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from dotenv import dotenv_values
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from bot.runtime import Cron

PLACEHOLDER = re.compile(
    r"^(changeme|change-me|secret|token|xxx+|todo|your[-_ ].*|<.*>|\.\.\.)$", re.I
)


def _split(value: object) -> object:
    """Accept `a,b , c` for list settings; pass lists through."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _pairs(value: object) -> object:
    """Accept `key=value,key2=value2` (or `key:value`) for mapping settings."""
    if not isinstance(value, str):
        return value
    out: dict[str, str] = {}
    for part in value.split(","):
        if not part.strip():
            continue
        sep = "=" if "=" in part else ":"
        key, found, val = part.partition(sep)
        if not found or not key.strip() or not val.strip():
            raise ValueError(f"expected key=value, got {part.strip()!r}")
        out[key.strip()] = val.strip()
    return out


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _duration(value: object) -> object:
    """Accept `90s`, `30m`, `48h`, `2d` (seconds); blank is None."""
    if not isinstance(value, str) or not value.strip():
        return _blank_is_none(value)
    match = _DURATION.match(value.strip().lower())
    if match is None or float(match[1]) <= 0:
        raise ValueError(f"expected a duration such as 90s, 30m, 48h or 2d, got {value.strip()!r}")
    return float(match[1]) * _UNIT_S[match[2]]


def parse_cron(value: str) -> Cron:
    """Return the schedule of `[TZ=Area/City ]m h dom mon dow` (5 fields; UTC by default)."""
    fields = value.split()
    tz = "UTC"
    if fields and fields[0].startswith("TZ="):
        tz = fields.pop(0)[3:]
    if len(fields) != 5:
        raise ValueError(f"expected 5 cron fields after an optional TZ=Area/City, got {value!r}")
    return Cron(" ".join(fields), tz)


CsvList = Annotated[list[str], BeforeValidator(_split)]
Pairs = Annotated[dict[str, str], BeforeValidator(_pairs)]
OptionalInt = Annotated[int | None, BeforeValidator(_blank_is_none)]
OptionalStr = Annotated[str | None, BeforeValidator(_blank_is_none)]
OptionalSecret = Annotated[SecretStr | None, BeforeValidator(_blank_is_none)]
OptionalDuration = Annotated[float | None, BeforeValidator(_duration)]


class Settings(BaseModel):
    """Every setting of prbot; field aliases are the environment variable names."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    # Secrets: no defaults, placeholders rejected.
    github_webhook_secret: OptionalSecret = Field(None, alias="GITHUB_WEBHOOK_SECRET")
    discord_token: OptionalSecret = Field(None, alias="DISCORD_TOKEN")
    # Opens /ui and /api on a non-loopback bind (Bearer header or the login form).
    dashboard_token: OptionalSecret = Field(None, alias="DASHBOARD_TOKEN")

    # Where things go.
    discord_channel_id: OptionalInt = Field(None, alias="DISCORD_CHANNEL_ID")
    repo_channels: Pairs = Field(default_factory=dict, alias="REPO_CHANNELS")
    discord_alert_channel_id: OptionalInt = Field(None, alias="DISCORD_ALERT_CHANNEL_ID")
    discord_api_base: str = Field("https://discord.com/api/v10", alias="DISCORD_API_BASE")
    # Discord allows 50 requests/s per bot in all; stay under it across every process.
    discord_global_rate: float = Field(40.0, alias="DISCORD_GLOBAL_RATE", gt=0, le=50)
    redis_url: OptionalStr = Field(None, alias="REDIS_URL")
    redis_key_prefix: str = Field("prbot", alias="REDIS_KEY_PREFIX", pattern=r"^[A-Za-z0-9_.:-]+$")

    # Runtime.
    worker_concurrency: int = Field(32, alias="WORKER_CONCURRENCY", ge=1, le=1024)
    run_visibility_timeout_s: float = Field(4.0, alias="RUN_VISIBILITY_TIMEOUT_S", gt=0)
    shutdown_timeout_s: float = Field(25.0, alias="SHUTDOWN_TIMEOUT_S", ge=0)
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    log_format: Literal["text", "json"] = Field("text", alias="LOG_FORMAT")

    # Webhook receiver.
    allow_unsigned_webhooks: bool = Field(False, alias="ALLOW_UNSIGNED_WEBHOOKS")
    delivery_retention_days: float = Field(7.0, alias="DELIVERY_RETENTION_DAYS", gt=0)
    delivery_max: int = Field(10_000, alias="DELIVERY_MAX", ge=1)

    # PR threads.
    thread_name_template: str = Field("#{number} {title}", alias="THREAD_NAME_TEMPLATE")
    thread_auto_archive_minutes: int = Field(10080, alias="THREAD_AUTO_ARCHIVE_MINUTES")
    lock_on_close: bool = Field(False, alias="LOCK_ON_CLOSE")
    notify_synchronize: bool = Field(False, alias="NOTIFY_SYNCHRONIZE")
    include_bot_prs: bool = Field(False, alias="INCLUDE_BOT_PRS")
    excluded_authors: CsvList = Field(default_factory=list, alias="EXCLUDED_AUTHORS")
    excluded_labels: CsvList = Field(default_factory=list, alias="EXCLUDED_LABELS")
    draft_quiet: bool = Field(False, alias="DRAFT_QUIET")
    github_discord_users: Pairs = Field(default_factory=dict, alias="GITHUB_DISCORD_USERS")
    github_discord_users_file: OptionalStr = Field(None, alias="GITHUB_DISCORD_USERS_FILE")
    forum_tags: Pairs = Field(default_factory=dict, alias="FORUM_TAGS")

    # Features: review reminders (seconds) and the daily digest.
    review_reminder_after: OptionalDuration = Field(None, alias="REVIEW_REMINDER_AFTER")
    digest_cron: OptionalStr = Field(None, alias="DIGEST_CRON")
    digest_channel_id: OptionalInt = Field(None, alias="DIGEST_CHANNEL_ID")

    @field_validator("github_webhook_secret", "discord_token", "dashboard_token")
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and PLACEHOLDER.match(value.get_secret_value().strip()):
            raise ValueError("is a placeholder; set the real value or leave it unset")
        return value

    @field_validator("thread_auto_archive_minutes")
    @classmethod
    def _archive_minutes(cls, value: int) -> int:
        if value not in (60, 1440, 4320, 10080):
            raise ValueError("must be 60, 1440, 4320 or 10080 (what Discord accepts)")
        return value

    @field_validator("repo_channels")
    @classmethod
    def _channel_ids(cls, value: dict[str, str]) -> dict[str, str]:
        for repo, channel in value.items():
            if not re.fullmatch(r"[\w.-]+/([\w.-]+|\*)", repo) or not channel.isdigit():
                raise ValueError(f"expected owner/repo=CHANNEL_ID or owner/*=CHANNEL_ID: {repo}")
        return value

    @field_validator("digest_cron")
    @classmethod
    def _digest_cron(cls, value: str | None) -> str | None:
        if value is not None:
            parse_cron(value)  # raises ValueError, reported as the setting's error
        return value

    @model_validator(mode="after")
    def _digest_needs_a_channel(self) -> Settings:
        if self.digest_cron is not None and self.digest_channel_id is None:
            raise ValueError("DIGEST_CRON needs DIGEST_CHANNEL_ID: the text channel to post in")
        return self

    @property
    def digest_schedule(self) -> Cron | None:
        """Return the digest's cron schedule, None when the digest is off."""
        return parse_cron(self.digest_cron) if self.digest_cron else None

    @property
    def embedded(self) -> bool:
        """True when no Redis is configured and the in-process store is used."""
        return self.redis_url is None


def read_environment(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> dict[str, str]:
    """Merge `.env` (if present) under the process environment; the environment wins."""
    merged: dict[str, str] = {}
    if dotenv is not None and dotenv.is_file():
        merged.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
    merged.update(os.environ if environ is None else environ)
    return merged


def load_settings(values: Mapping[str, str]) -> Settings:
    """Build and validate the settings from a mapping of environment-style names."""
    return Settings.model_validate(dict(values))
