"""Data model of the fake Discord: users, roles, guilds, channels, threads, messages.

Every ``to_json`` returns the object the way Discord's REST API v10 shows it, with ids as strings,
so discord.py builds its models from our responses exactly as it does from Discord's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntFlag
from typing import Any

from tests.fakes.discord_clock import iso

JSONObject = dict[str, Any]

# https://discord.com/developers/docs/resources/channel#channel-object-channel-types
TEXT_CHANNEL = 0
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
FORUM_CHANNEL = 15

# https://discord.com/developers/docs/resources/channel#channel-object-channel-flags
REQUIRE_TAG_FLAG = 1 << 4


class Permission(IntFlag):
    """The permission bits a thread bot cares about (docs: topics/permissions)."""

    MANAGE_CHANNELS = 1 << 4
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    EMBED_LINKS = 1 << 14
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38


EVERYONE_PERMISSIONS = (
    Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES
    | Permission.EMBED_LINKS
    | Permission.READ_MESSAGE_HISTORY
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.SEND_MESSAGES_IN_THREADS
)
BOT_ROLE_PERMISSIONS = EVERYONE_PERMISSIONS | Permission.MANAGE_THREADS


@dataclass
class User:
    """A Discord user (the bot itself, or someone mentioned)."""

    id: int
    username: str
    bot: bool = False

    def to_json(self) -> JSONObject:
        """Return the user object."""
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
        }


@dataclass
class Role:
    """A guild role; the @everyone role has the guild's id."""

    id: int
    name: str
    permissions: int = 0
    position: int = 0
    mentionable: bool = False

    def to_json(self) -> JSONObject:
        """Return the role object."""
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": self.mentionable,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }


@dataclass
class Guild:
    """A guild with its roles and the role ids of each member we know (at least the bot)."""

    id: int
    name: str
    owner_id: int
    joined_at: float
    roles: dict[int, Role] = field(default_factory=dict)
    member_roles: dict[int, list[int]] = field(default_factory=dict)

    def to_json(self) -> JSONObject:
        """Return the guild object (GET /guilds/{id})."""
        return {
            "id": str(self.id),
            "name": self.name,
            "owner_id": str(self.owner_id),
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "features": [],
            "roles": [role.to_json() for role in self.roles.values()],
            "emojis": [],
            "stickers": [],
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "approximate_member_count": len(self.member_roles),
            "approximate_presence_count": 0,
        }


@dataclass(frozen=True)
class ForumTag:
    """A tag that a forum channel offers to its posts."""

    id: int
    name: str
    moderated: bool = False
    emoji_id: int | None = None
    emoji_name: str | None = None

    def to_json(self) -> JSONObject:
        """Return the forum tag object."""
        return {
            "id": str(self.id),
            "name": self.name,
            "moderated": self.moderated,
            "emoji_id": None if self.emoji_id is None else str(self.emoji_id),
            "emoji_name": self.emoji_name,
        }


@dataclass
class Channel:
    """A guild text channel (type 0) or forum channel (type 15)."""

    id: int
    guild_id: int
    name: str
    type: int
    position: int
    permission_overwrites: list[JSONObject] = field(default_factory=list)
    available_tags: list[ForumTag] = field(default_factory=list)
    topic: str | None = None
    default_auto_archive_duration: int = 1440
    flags: int = 0
    last_message_id: int | None = None
    renames: list[float] = field(default_factory=list)

    @property
    def is_forum(self) -> bool:
        """Whether this is a forum channel."""
        return self.type == FORUM_CHANNEL

    def tag_ids(self) -> set[int]:
        """Return the ids of the forum's available tags."""
        return {tag.id for tag in self.available_tags}

    def to_json(self) -> JSONObject:
        """Return the channel object."""
        data: JSONObject = {
            "id": str(self.id),
            "guild_id": str(self.guild_id),
            "name": self.name,
            "type": self.type,
            "position": self.position,
            "permission_overwrites": self.permission_overwrites,
            "topic": self.topic,
            "nsfw": False,
            "parent_id": None,
            "rate_limit_per_user": 0,
            "last_message_id": _opt_id(self.last_message_id),
            "default_auto_archive_duration": self.default_auto_archive_duration,
            "flags": self.flags,
        }
        if self.is_forum:
            data["available_tags"] = [tag.to_json() for tag in self.available_tags]
            data["default_reaction_emoji"] = None
            data["default_sort_order"] = None
            data["default_forum_layout"] = 0
            data["default_thread_rate_limit_per_user"] = 0
        return data


@dataclass
class Thread:
    """A public or private thread, or a forum post (a public thread in a forum)."""

    id: int
    guild_id: int
    parent_id: int
    owner_id: int
    name: str
    type: int
    auto_archive_duration: int
    created_at: float
    archive_timestamp: float
    last_activity: float
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    applied_tags: list[int] = field(default_factory=list)
    members: dict[int, float] = field(default_factory=dict)
    message_count: int = 0
    total_message_sent: int = 0
    last_message_id: int | None = None
    renames: list[float] = field(default_factory=list)

    def to_json(self) -> JSONObject:
        """Return the thread channel object."""
        metadata: JSONObject = {
            "archived": self.archived,
            "auto_archive_duration": self.auto_archive_duration,
            "archive_timestamp": iso(self.archive_timestamp),
            "locked": self.locked,
            "create_timestamp": iso(self.created_at),
        }
        if self.type == PRIVATE_THREAD:
            metadata["invitable"] = self.invitable
        return {
            "id": str(self.id),
            "guild_id": str(self.guild_id),
            "parent_id": str(self.parent_id),
            "owner_id": str(self.owner_id),
            "name": self.name,
            "type": self.type,
            "last_message_id": _opt_id(self.last_message_id),
            "message_count": self.message_count,
            "member_count": len(self.members),
            "total_message_sent": self.total_message_sent,
            "rate_limit_per_user": 0,
            "flags": 0,
            "applied_tags": [str(tag) for tag in self.applied_tags],
            "thread_metadata": metadata,
        }

    def member_json(self, user_id: int) -> JSONObject:
        """Return the thread member object of ``user_id``."""
        return {
            "id": str(self.id),
            "user_id": str(user_id),
            "join_timestamp": iso(self.members[user_id]),
            "flags": 0,
        }


@dataclass(frozen=True)
class Pings:
    """Who a message actually notified, after Discord applies ``allowed_mentions``."""

    everyone: bool = False
    users: tuple[int, ...] = ()
    roles: tuple[int, ...] = ()

    @property
    def anyone(self) -> bool:
        """Whether the message pinged anybody at all."""
        return self.everyone or bool(self.users) or bool(self.roles)

    def to_json(self) -> JSONObject:
        """Return the pings as JSON for the state dump."""
        return {
            "everyone": self.everyone,
            "users": [str(u) for u in self.users],
            "roles": [str(r) for r in self.roles],
        }


@dataclass
class Message:
    """A message as the fake stored it, with the request fields tests assert on."""

    id: int
    channel_id: int
    guild_id: int
    author: User
    content: str
    embeds: list[JSONObject]
    created_at: float
    nonce: str | int | None = None
    enforce_nonce: bool = False
    allowed_mentions: JSONObject | None = None
    pings: Pings = field(default_factory=Pings)
    edited_at: float | None = None

    def to_json(self, *, with_nonce: bool = False) -> JSONObject:
        """Return the message object; the nonce only in the answer to its own create.

        Discord keeps no nonce with a stored message: it is echoed in the create response (and
        the gateway's MESSAGE_CREATE), never in GET /channels/{id}/messages.
        """
        data: JSONObject = {
            "id": str(self.id),
            "type": 0,
            "channel_id": str(self.channel_id),
            "guild_id": str(self.guild_id),
            "author": self.author.to_json(),
            "content": self.content,
            "timestamp": iso(self.created_at),
            "edited_timestamp": iso(self.edited_at) if self.edited_at is not None else None,
            "tts": False,
            "mention_everyone": self.pings.everyone,
            "mentions": [_mentioned_user(u) for u in self.pings.users],
            "mention_roles": [str(r) for r in self.pings.roles],
            "attachments": [],
            "embeds": self.embeds,
            "pinned": False,
            "flags": 0,
            "components": [],
        }
        if with_nonce and self.nonce is not None:
            data["nonce"] = self.nonce
        return data

    def record_json(self) -> JSONObject:
        """Return the message plus what the request carried, for the state dump."""
        return {
            **self.to_json(),
            "nonce": self.nonce,
            "enforce_nonce": self.enforce_nonce,
            "allowed_mentions": self.allowed_mentions,
            "pings": self.pings.to_json(),
        }


def _mentioned_user(user_id: int) -> JSONObject:
    return User(id=user_id, username=f"user-{user_id}").to_json()


def _opt_id(value: int | None) -> str | None:
    return None if value is None else str(value)
