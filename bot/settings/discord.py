"""Discord settings: the bot's token, where PR threads and alerts go, the API, the application."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from bot.settings.values import Group, OptionalInt, OptionalStr, Pairs, Secret


class DiscordSettings(Group):
    """The bot, its channels and the Discord endpoints it talks to."""

    discord_token: Secret = Field(None, alias="DISCORD_TOKEN")

    # Where things go.
    discord_channel_id: OptionalInt = Field(None, alias="DISCORD_CHANNEL_ID")
    repo_channels: Pairs = Field(default_factory=dict, alias="REPO_CHANNELS")
    discord_alert_channel_id: OptionalInt = Field(None, alias="DISCORD_ALERT_CHANNEL_ID")
    discord_api_base: str = Field("https://discord.com/api/v10", alias="DISCORD_API_BASE")
    # The gateway prbot connects to (`serve --role gateway`); unset: Discord's own.
    discord_gateway_url: OptionalStr = Field(None, alias="DISCORD_GATEWAY_URL")
    # Discord allows 50 requests/s per bot in all; stay under it across every process.
    discord_global_rate: float = Field(40.0, alias="DISCORD_GLOBAL_RATE", gt=0, le=50)

    # The Discord application: slash commands over HTTP (POST /discord/interactions).
    discord_application_id: OptionalInt = Field(None, alias="DISCORD_APPLICATION_ID")
    discord_public_key: OptionalStr = Field(None, alias="DISCORD_PUBLIC_KEY")

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
