"""GitHub API settings: a token or an App (and its private key), the API base, backfill, replies."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator

from bot.settings.values import (
    DurationOrOff,
    Group,
    OptionalBool,
    OptionalInt,
    OptionalSecret,
    OptionalStr,
    Secret,
)

_HOOK = r"^\s*(repos/[\w.-]+/[\w.-]+|orgs/[\w.-]+)/hooks/\d+\s*$"


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


def _pem_text(value: str) -> str:
    """Accept a PEM pasted on one line with literal `\\n` (environment files, compose)."""
    text = value.strip()
    return text.replace("\\n", "\n") if "\n" not in text else text


class GitHubSettings(Group):
    """API access: a token, or a GitHub App (its installation comes with each delivery)."""

    github_token: Secret = Field(None, alias="GITHUB_TOKEN")
    github_app_id: OptionalInt = Field(None, alias="GITHUB_APP_ID", gt=0)
    github_app_private_key: OptionalSecret = Field(None, alias="GITHUB_APP_PRIVATE_KEY")
    github_app_private_key_file: OptionalStr = Field(None, alias="GITHUB_APP_PRIVATE_KEY_FILE")
    # The GitHub App's client id, with which people prove their GitHub login (device flow) for
    # `/pr link`; github.com's web base derives from GITHUB_API_BASE.
    github_app_client_id: OptionalStr = Field(None, alias="GITHUB_APP_CLIENT_ID")
    github_api_base: str = Field(
        "https://api.github.com", alias="GITHUB_API_BASE", pattern=r"^https?://\S+$"
    )
    # The webhook whose deliveries `prbot backfill` redelivers when prbot uses a token.
    github_hook: OptionalStr = Field(None, alias="GITHUB_HOOK", pattern=_HOOK)
    backfill_interval_s: DurationOrOff = Field(300.0, alias="BACKFILL_INTERVAL")
    # Thread replies → PR comments; unset: on whenever there is API access.
    sync_discord_replies: OptionalBool = Field(None, alias="SYNC_DISCORD_REPLIES")
    # With API access: one comment per PR linking its Discord thread.
    github_backlink: bool = Field(True, alias="GITHUB_BACKLINK")

    @field_validator("github_app_private_key")
    @classmethod
    def _app_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _check_pem(_pem_text(value.get_secret_value()))
        return value

    @model_validator(mode="after")
    def _app_complete(self) -> Self:
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

    @property
    def github_app(self) -> bool:
        """True when a GitHub App is configured (it is used even if GITHUB_TOKEN is set too)."""
        return self.github_app_id is not None

    @property
    def sync_replies(self) -> bool:
        """True when Discord thread replies are mirrored to GitHub (needs API access)."""
        access = self.github_app_id is not None or self.github_token is not None
        return access and self.sync_discord_replies is not False
