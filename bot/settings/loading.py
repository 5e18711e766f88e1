"""The one settings object, every group in it, and how it is loaded from an environment mapping."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import get_args

from dotenv import dotenv_values
from pydantic import ConfigDict, SecretStr, ValidationError

from bot.settings.discord import DiscordSettings
from bot.settings.features import FeatureSettings
from bot.settings.github import GitHubSettings
from bot.settings.runtime import RuntimeSettings
from bot.settings.threads import ThreadSettings
from bot.settings.web import WebSettings


class Settings(
    FeatureSettings, GitHubSettings, ThreadSettings, RuntimeSettings, DiscordSettings, WebSettings
):
    """Every setting of prbot; field aliases are the environment variable names.

    pydantic orders the fields (and so the errors) from the last group to the first: the web
    group's secrets, Discord, the runtime, threads, GitHub, features.
    """

    model_config = ConfigDict(defer_build=False)  # built at import, as every entry point uses it


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
