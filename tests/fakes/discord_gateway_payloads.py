"""What the fake Discord gateway sends: READY, GUILD_CREATE and message dispatches, shaped as v10.

Intents: https://discord.com/developers/docs/events/gateway#gateway-intents. Without the privileged
MESSAGE_CONTENT intent Discord empties ``content``, ``embeds``, ``attachments``, ``components`` and
``poll``, except in DMs, in messages that mention the app and in the app's own messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tests.fakes.discord_clock import iso
from tests.fakes.discord_models import JSONObject
from tests.fakes.discord_state import DiscordState

GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT
ALL_INTENTS = (1 << 26) - 1

# https://discord.com/developers/docs/resources/application#application-object-application-flags
# An unverified app (under 100 guilds) that has the intent switched on gets the *_LIMITED flag.
LIMITED_FLAGS = {GUILD_PRESENCES: 1 << 13, GUILD_MEMBERS: 1 << 15, MESSAGE_CONTENT: 1 << 19}

CONTENT_FIELDS = {"content": "", "embeds": [], "attachments": [], "components": []}
MESSAGE_EVENTS = ("MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE")


@dataclass(frozen=True)
class Author:
    """Someone who posts in a test: a user, a bot, or a webhook (whose id is the webhook's)."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    webhook: bool = False

    def to_json(self) -> JSONObject:
        """Return the user object Discord puts in ``author`` and ``mentions``."""
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0000" if self.webhook else "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot or self.webhook,
            "public_flags": 0,
        }


def application_flags(privileged_intents: int) -> int:
    """Return the application flags that go with the privileged intents switched on."""
    flags = 0
    for intent, flag in LIMITED_FLAGS.items():
        if privileged_intents & intent:
            flags |= flag
    return flags


def ready(
    state: DiscordState, session_id: str, resume_url: str, privileged: int, shard: object
) -> JSONObject:
    """Return READY: the bot, its guilds as unavailable stubs, the session and resume URL."""
    data: JSONObject = {
        "v": 10,
        "user": state.bot.to_json(),
        "guilds": [{"id": str(g), "unavailable": True} for g in state.guilds],
        "session_id": session_id,
        "session_type": "normal",
        "resume_gateway_url": resume_url,
        "private_channels": [],
        "application": {
            "id": str(state.application_id),
            "flags": application_flags(privileged),
        },
    }
    if shard is not None:
        data["shard"] = shard
    return data


def guild_create(state: DiscordState, guild_id: int) -> JSONObject:
    """Return GUILD_CREATE: the guild with its channels, active threads and the bot's member."""
    guild = state.guild(guild_id)
    threads = [t for t in state.all_threads() if t.guild_id == guild_id and not t.archived]
    return {
        **guild.to_json(),
        "joined_at": iso(guild.joined_at),
        "large": False,
        "unavailable": False,
        "member_count": len(guild.member_roles),
        "members": [state.member_json(guild_id, state.bot.id)],
        "voice_states": [],
        "presences": [],
        "channels": state.guild_channels_json(guild_id),
        "threads": [t.to_json() for t in threads],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def guild_of(state: DiscordState, channel_id: int) -> int | None:
    """Return the guild of a seeded channel or thread; None for anything else (a DM)."""
    if channel_id in state.threads:
        return state.threads[channel_id].guild_id
    if channel_id in state.channels:
        return state.channels[channel_id].guild_id
    return None


@dataclass(frozen=True)
class MessageSpec:
    """What a test says about a message; ``message`` turns it into Discord's payload."""

    channel_id: int
    content: str
    author: Author
    type: int = 0
    reference_id: int | None = None
    mentions: Sequence[Author] = ()
    attachments: Sequence[str] = ()


def message(state: DiscordState, message_id: int, spec: MessageSpec) -> JSONObject:
    """Return a MESSAGE_CREATE payload as Discord sends it (with ``member`` in guilds)."""
    guild_id = guild_of(state, spec.channel_id)
    author = spec.author
    data: JSONObject = {
        "id": str(message_id),
        "type": spec.type,
        "channel_id": str(spec.channel_id),
        "author": author.to_json(),
        "content": spec.content,
        "timestamp": iso(state.clock.now()),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [m.to_json() for m in spec.mentions],
        "mention_roles": [],
        "attachments": [_attachment(state, url) for url in spec.attachments],
        "embeds": [],
        "components": [],
        "pinned": False,
        "flags": 0,
        "nonce": None,
    }
    if author.webhook:
        data["webhook_id"] = str(author.id)
    if guild_id is not None:
        data["guild_id"] = str(guild_id)
        if not author.webhook:
            data["member"] = _member(state)
    if spec.reference_id is not None:
        data["message_reference"] = {
            "type": 0,
            "message_id": str(spec.reference_id),
            "channel_id": str(spec.channel_id),
            **({"guild_id": str(guild_id)} if guild_id is not None else {}),
        }
    return data


def _member(state: DiscordState) -> JSONObject:
    return {
        "roles": [],
        "joined_at": iso(state.clock.now()),
        "nick": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
    }


def _attachment(state: DiscordState, url: str) -> JSONObject:
    return {
        "id": str(state.ids.next()),
        "filename": url.rsplit("/", 1)[-1] or "file",
        "size": 1,
        "url": url,
        "proxy_url": url,
    }


def visible(event: str, data: JSONObject, intents: int, bot_id: int) -> JSONObject | None:
    """Return the payload a session with ``intents`` receives, or None when it gets no event."""
    if event not in MESSAGE_EVENTS:
        return data if intents & GUILDS or event != "GUILD_CREATE" else None
    in_guild = "guild_id" in data
    if not intents & (GUILD_MESSAGES if in_guild else DIRECT_MESSAGES):
        return None
    if event == "MESSAGE_DELETE" or intents & MESSAGE_CONTENT or not in_guild:
        return data
    author = data.get("author", {}).get("id")
    mentioned = {m["id"] for m in data.get("mentions", [])}
    if author == str(bot_id) or str(bot_id) in mentioned:
        return data
    return {**data, **CONTENT_FIELDS}
