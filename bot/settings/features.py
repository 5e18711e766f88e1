"""Feature settings: review reminders and the daily digest."""

from __future__ import annotations

from typing import Self

from pydantic import Field, field_validator, model_validator

from bot.runtime import Cron
from bot.settings.values import Group, OptionalDuration, OptionalInt, OptionalStr, parse_cron


class FeatureSettings(Group):
    """Review reminders (seconds) and the digest (a cron schedule and its channel)."""

    review_reminder_after: OptionalDuration = Field(None, alias="REVIEW_REMINDER_AFTER")
    digest_cron: OptionalStr = Field(None, alias="DIGEST_CRON")
    digest_channel_id: OptionalInt = Field(None, alias="DIGEST_CHANNEL_ID")

    @field_validator("digest_cron")
    @classmethod
    def _digest_cron(cls, value: str | None) -> str | None:
        if value is not None:
            parse_cron(value)  # raises ValueError, reported as the setting's error
        return value

    @model_validator(mode="after")
    def _digest_needs_a_channel(self) -> Self:
        if self.digest_cron is not None and self.digest_channel_id is None:
            raise ValueError("DIGEST_CRON needs DIGEST_CHANNEL_ID: the text channel to post in")
        return self

    @property
    def digest_schedule(self) -> Cron | None:
        """Return the digest's cron schedule, None when the digest is off."""
        return parse_cron(self.digest_cron) if self.digest_cron else None
