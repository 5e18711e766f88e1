"""The Discord door: the only package that talks to Discord or imports discord.py.

`shapes` says what prbot asks of Discord and the plain data it passes; `rest.DiscordRestAdapter`
does it over discord.py (REST only) and `dryrun.DryRunAdapter` writes a transcript instead;
`connect.open_adapter` picks one from the settings.
"""

from bot.discord.connect import open_adapter
from bot.discord.shapes import (
    THREAD_ARCHIVED,
    UNKNOWN_CHANNEL,
    UNKNOWN_MESSAGE,
    ArchivedPage,
    ChannelInfo,
    DiscordAdapter,
    DiscordApiError,
    EmbedField,
    EmbedSpec,
    OutMessage,
    PostedMessage,
    Recorder,
    ThreadEdit,
    ThreadInfo,
    is_posting_of,
)

__all__ = [
    "THREAD_ARCHIVED",
    "UNKNOWN_CHANNEL",
    "UNKNOWN_MESSAGE",
    "ArchivedPage",
    "ChannelInfo",
    "DiscordAdapter",
    "DiscordApiError",
    "EmbedField",
    "EmbedSpec",
    "OutMessage",
    "PostedMessage",
    "Recorder",
    "ThreadEdit",
    "ThreadInfo",
    "is_posting_of",
    "open_adapter",
]
