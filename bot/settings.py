"""One settings object, built from a mapping: the environment plus `.env`, read at entry."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal, get_args
from urllib.parse import urlsplit

from dotenv import dotenv_values
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
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
    for n, part in enumerate(value.split(","), 1):
        if not part.strip():
            continue
        sep = "=" if "=" in part else ":"
        key, found, val = part.partition(sep)
        if not found or not key.strip() or not val.strip():
            # Never the value itself: a secret pasted into the wrong setting must not be printed.
            raise ValueError(f"entry {n}: expected key=value")
        out[key.strip()] = val.strip()
    return out


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Return the seconds in `90s`, `30m`, `2h` or `3d`."""
    found = _DURATION.fullmatch(text.strip().lower())
    if found is None:
        raise ValueError(f"expected a duration like 90s, 30m, 2h or 3d, got {text.strip()!r}")
    return float(found.group(1)) * _UNIT_S[found.group(2)]


def _duration_or_off(value: object) -> object:
    """Accept a duration text; empty, `0` or `off` turn the feature off (None)."""
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    if text in ("", "0", "off"):
        return None
    seconds = parse_duration(text)
    return seconds if seconds > 0 else None


def _check_pem(pem: str) -> None:
    """Raise ValueError unless `pem` is an RSA private key (what GitHub gives an App)."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError("is not a PEM private key (paste the whole .pem file)") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("is not an RSA private key (GitHub Apps sign with RS256)")


def _duration(value: object) -> object:
    """Accept `90s`, `30m`, `48h`, `2d` (seconds); blank is None."""
    if not isinstance(value, str) or not value.strip():
        return _blank_is_none(value)
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError(f"expected a duration such as 90s, 30m, 48h or 2d, got {value.strip()!r}")
    return seconds


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
OptionalBool = Annotated[bool | None, BeforeValidator(_blank_is_none)]
OptionalSecret = Annotated[SecretStr | None, BeforeValidator(_blank_is_none)]
OptionalDuration = Annotated[float | None, BeforeValidator(_duration)]
DurationOrOff = Annotated[float | None, BeforeValidator(_duration_or_off)]
_HOOK = r"^\s*(repos/[\w.-]+/[\w.-]+|orgs/[\w.-]+)/hooks/\d+\s*$"


class Settings(BaseModel):
    """Every setting of prbot; field aliases are the environment variable names."""

    # Never echo an input in a validation error: it may be a secret (a token, a private key).
    model_config = ConfigDict(
        extra="ignore", populate_by_name=True, frozen=True, hide_input_in_errors=True
    )

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
    # The gateway prbot connects to (`serve --role gateway`); unset: Discord's own.
    discord_gateway_url: OptionalStr = Field(None, alias="DISCORD_GATEWAY_URL")
    # Discord allows 50 requests/s per bot in all; stay under it across every process.
    discord_global_rate: float = Field(40.0, alias="DISCORD_GLOBAL_RATE", gt=0, le=50)
    redis_url: OptionalStr = Field(None, alias="REDIS_URL")
    redis_key_prefix: str = Field("prbot", alias="REDIS_KEY_PREFIX", pattern=r"^[A-Za-z0-9_.:-]+$")

    # The Discord application: slash commands over HTTP (POST /discord/interactions).
    discord_application_id: OptionalInt = Field(None, alias="DISCORD_APPLICATION_ID")
    discord_public_key: OptionalStr = Field(None, alias="DISCORD_PUBLIC_KEY")

    # The GitHub App's client id, with which people prove their GitHub login (device flow) for
    # `/pr link`; github.com's web base derives from GITHUB_API_BASE.
    github_app_client_id: OptionalStr = Field(None, alias="GITHUB_APP_CLIENT_ID")

    # Runtime.
    worker_concurrency: int = Field(32, alias="WORKER_CONCURRENCY", ge=1, le=1024)
    run_visibility_timeout_s: float = Field(4.0, alias="RUN_VISIBILITY_TIMEOUT_S", gt=0)
    shutdown_timeout_s: float = Field(25.0, alias="SHUTDOWN_TIMEOUT_S", ge=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", alias="LOG_LEVEL"
    )
    log_format: Literal["text", "json"] = Field("text", alias="LOG_FORMAT")

    # Webhook receiver.
    allow_unsigned_webhooks: bool = Field(False, alias="ALLOW_UNSIGNED_WEBHOOKS")
    delivery_retention_days: float = Field(7.0, alias="DELIVERY_RETENTION_DAYS", gt=0)
    delivery_max: int = Field(10_000, alias="DELIVERY_MAX", ge=1)
    # Bodies are read whole before the signature can be checked: bound them across requests.
    webhook_bodies_max_mb: int = Field(100, alias="WEBHOOK_BODIES_MAX_MB", ge=1)

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

    # GitHub API access: a token, or a GitHub App (its installation comes with each delivery).
    github_token: OptionalSecret = Field(None, alias="GITHUB_TOKEN")
    github_app_id: OptionalInt = Field(None, alias="GITHUB_APP_ID", gt=0)
    github_app_private_key: OptionalSecret = Field(None, alias="GITHUB_APP_PRIVATE_KEY")
    github_app_private_key_file: OptionalStr = Field(None, alias="GITHUB_APP_PRIVATE_KEY_FILE")
    github_api_base: str = Field(
        "https://api.github.com", alias="GITHUB_API_BASE", pattern=r"^https?://\S+$"
    )
    # The webhook whose deliveries `prbot backfill` redelivers when prbot uses a token.
    github_hook: OptionalStr = Field(None, alias="GITHUB_HOOK", pattern=_HOOK)
    backfill_interval_s: DurationOrOff = Field(300.0, alias="BACKFILL_INTERVAL")
    # Thread replies → PR comments; unset: on whenever there is API access.
    sync_discord_replies: OptionalBool = Field(None, alias="SYNC_DISCORD_REPLIES")

    # Features: review reminders (seconds) and the daily digest.
    review_reminder_after: OptionalDuration = Field(None, alias="REVIEW_REMINDER_AFTER")
    digest_cron: OptionalStr = Field(None, alias="DIGEST_CRON")
    digest_channel_id: OptionalInt = Field(None, alias="DIGEST_CHANNEL_ID")
    # With API access: one comment per PR linking its Discord thread.
    github_backlink: bool = Field(True, alias="GITHUB_BACKLINK")

    @field_validator("github_webhook_secret", "discord_token", "dashboard_token", "github_token")
    @classmethod
    def _no_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and PLACEHOLDER.match(value.get_secret_value().strip()):
            raise ValueError("is a placeholder; set the real value or leave it unset")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        # Checked here so that a bad URL is reported by name, never echoed in a traceback.
        if value is None:
            return None
        try:
            scheme, port = urlsplit(value).scheme, urlsplit(value).port
        except ValueError:
            raise ValueError("is not a URL: redis://[:PASSWORD@]HOST[:PORT][/DB]") from None
        if scheme not in ("redis", "rediss", "unix") or (port is not None and port < 1):
            raise ValueError("must be redis://, rediss:// or unix:// followed by where it is")
        return value

    @field_validator("github_app_private_key")
    @classmethod
    def _app_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _check_pem(_pem_text(value.get_secret_value()))
        return value

    @model_validator(mode="after")
    def _app_complete(self) -> Settings:
        if self.github_app_private_key is not None and self.github_app_private_key_file:
            raise ValueError("set GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_FILE, not both")
        has_key = self.github_app_private_key is not None or bool(self.github_app_private_key_file)
        # One without the other is a half-configured App: say so rather than ignore it.
        if has_key and self.github_app_id is None:
            raise ValueError("GITHUB_APP_PRIVATE_KEY needs GITHUB_APP_ID")
        if self.github_app_id is not None and not has_key:
            raise ValueError("GITHUB_APP_ID needs GITHUB_APP_PRIVATE_KEY or _FILE")
        if self.github_app_private_key_file:
            _check_pem(self.app_private_key() or "")
        return self

    def app_private_key(self) -> str | None:
        """Return the App's private key PEM, from the setting or the file it names."""
        if self.github_app_private_key is not None:
            return _pem_text(self.github_app_private_key.get_secret_value())
        if not self.github_app_private_key_file:
            return None
        path = Path(self.github_app_private_key_file)
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(
                f"GITHUB_APP_PRIVATE_KEY_FILE: cannot read {path}: {exc.strerror}"
            ) from None

    @field_validator("thread_auto_archive_minutes")
    @classmethod
    def _archive_minutes(cls, value: int) -> int:
        if value not in (60, 1440, 4320, 10080):
            raise ValueError("must be 60, 1440, 4320 or 10080 (what Discord accepts)")
        return value

    @field_validator("discord_public_key")
    @classmethod
    def _public_key(cls, value: str | None) -> str | None:
        # https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint
        if value is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", value.strip()):
            raise ValueError("must be the application's public key: 64 hex characters")
        return value.strip().lower() if value is not None else None

    @field_validator("repo_channels")
    @classmethod
    def _channel_ids(cls, value: dict[str, str]) -> dict[str, str]:
        for n, (repo, channel) in enumerate(value.items(), 1):
            if not re.fullmatch(r"[\w.-]+/([\w.-]+|\*)", repo) or not channel.isdigit():
                raise ValueError(f"entry {n}: expected owner/repo=CHANNEL_ID or owner/*=CHANNEL_ID")
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
    def github_app(self) -> bool:
        """True when a GitHub App is configured (it is used even if GITHUB_TOKEN is set too)."""
        return self.github_app_id is not None

    @property
    def sync_replies(self) -> bool:
        """True when Discord thread replies are mirrored to GitHub (needs API access)."""
        access = self.github_app_id is not None or self.github_token is not None
        return access and self.sync_discord_replies is not False

    @property
    def embedded(self) -> bool:
        """True when no Redis is configured and the in-process store is used."""
        return self.redis_url is None


def _pem_text(value: str) -> str:
    """Accept a PEM pasted on one line with literal `\\n` (environment files, compose)."""
    text = value.strip()
    return text.replace("\\n", "\n") if "\n" not in text else text


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


def settings_errors(exc: ValidationError) -> list[str]:
    """Return one `NAME: what is wrong` line per error, never the offending value.

    pydantic's own text repeats each input (`input_value=...`), which may be a secret pasted
    into the wrong setting.
    """
    return [
        f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
        for e in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


def explain(exc: ValidationError) -> str:
    """Return `invalid settings:` and one indented line per error, for a command to print."""
    return "\n  ".join(["invalid settings:", *settings_errors(exc)])


def secret_names() -> list[str]:
    """Return the environment names of every secret setting (each `SecretStr` field)."""
    return [
        field.alias or name
        for name, field in Settings.model_fields.items()
        if field.annotation is SecretStr or SecretStr in get_args(field.annotation)
    ]
