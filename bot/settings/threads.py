"""PR thread settings: names, archiving, which PRs and events are told, people and forum tags."""

from __future__ import annotations

from pydantic import Field, field_validator

from bot.settings.values import CsvList, Group, OptionalStr, Pairs


class ThreadSettings(Group):
    """How each PR's Discord thread is named, kept and filled."""

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

    @field_validator("thread_auto_archive_minutes")
    @classmethod
    def _archive_minutes(cls, value: int) -> int:
        if value not in (60, 1440, 4320, 10080):
            raise ValueError("must be 60, 1440, 4320 or 10080 (what Discord accepts)")
        return value
