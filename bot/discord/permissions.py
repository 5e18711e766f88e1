"""Discord permissions prbot needs, and the bot's effective permissions in a channel.

Pure: the caller fetches the guild, its roles, the bot's member object and the channel.
Algorithm: https://discord.com/developers/docs/topics/permissions#permission-overwrites
(base = @everyone | member roles; owner or ADMINISTRATOR = everything; then the channel's
@everyone overwrite, the member's role overwrites together, the member overwrite) and
#implicit-permissions (no VIEW_CHANNEL: nothing; in threads, no SEND_MESSAGES_IN_THREADS:
no EMBED_LINKS, as discord.py's `Thread.permissions_for` applies it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntFlag


class Permission(IntFlag):
    """The permission bits prbot cares about (https://discord.com/developers/docs/topics/permissions)."""

    ADMINISTRATOR = 1 << 3
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    EMBED_LINKS = 1 << 14
    READ_MESSAGE_HISTORY = 1 << 16
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    SEND_MESSAGES_IN_THREADS = 1 << 38


ALL = (1 << 64) - 1

# Text channel: public threads without a starter message, then messages with embeds in them.
THREAD_CHANNEL = (
    Permission.VIEW_CHANNEL
    | Permission.SEND_MESSAGES_IN_THREADS
    | Permission.CREATE_PUBLIC_THREADS
    | Permission.MANAGE_THREADS
    | Permission.EMBED_LINKS
    | Permission.READ_MESSAGE_HISTORY
)
# Forum channel: a post is a thread created with a first message, which needs SEND_MESSAGES.
FORUM_CHANNEL = THREAD_CHANNEL | Permission.SEND_MESSAGES
# Alert channel: plain messages posted into the channel itself.
ALERT_CHANNEL = Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES | Permission.EMBED_LINKS
# What the invite link asks for: everything above, once.
INVITE = THREAD_CHANNEL | FORUM_CHANNEL | ALERT_CHANNEL
INVITE_URL = "https://discord.com/oauth2/authorize?client_id={application_id}&scope=bot&permissions={permissions}"


def invite_url(application_id: int | str) -> str:
    """Return the link that adds the bot to a server with exactly the permissions it needs."""
    return INVITE_URL.format(application_id=application_id, permissions=int(INVITE))


@dataclass(frozen=True)
class Overwrite:
    """One channel permission overwrite: type 0 = role, 1 = member."""

    id: int
    type: int
    allow: int
    deny: int


@dataclass(frozen=True)
class Member:
    """The bot as a guild member: its user id and role ids."""

    user_id: int
    role_ids: frozenset[int]


def base_permissions(guild_id: int, owner_id: int, roles: Mapping[int, int], member: Member) -> int:
    """Return the member's guild-wide permissions; `roles` maps role id -> permissions."""
    if member.user_id == owner_id:
        return ALL
    permissions = roles.get(guild_id, 0)  # the @everyone role has the guild's id
    for role_id in member.role_ids:
        permissions |= roles.get(role_id, 0)
    if permissions & Permission.ADMINISTRATOR:
        return ALL
    return permissions


def _apply(permissions: int, allow: int, deny: int) -> int:
    return (permissions & ~deny) | allow


def channel_permissions(
    base: int, guild_id: int, member: Member, overwrites: Iterable[Overwrite]
) -> int:
    """Apply a channel's overwrites to `base`: @everyone, the member's roles, the member."""
    if base & Permission.ADMINISTRATOR:
        return ALL
    by_id = {(o.type, o.id): o for o in overwrites}
    everyone = by_id.get((0, guild_id))
    permissions = _apply(base, everyone.allow, everyone.deny) if everyone else base
    allow = deny = 0
    for role_id in member.role_ids:
        role = by_id.get((0, role_id))
        if role is not None:
            allow, deny = allow | role.allow, deny | role.deny
    permissions = _apply(permissions, allow, deny)
    own = by_id.get((1, member.user_id))
    return _apply(permissions, own.allow, own.deny) if own else permissions


def implicit(permissions: int, *, in_threads: bool) -> int:
    """Remove what Discord implicitly denies: all without VIEW_CHANNEL, embeds without sending."""
    if not permissions & Permission.VIEW_CHANNEL:
        return 0
    sending = Permission.SEND_MESSAGES_IN_THREADS if in_threads else Permission.SEND_MESSAGES
    if not permissions & sending:
        permissions &= ~Permission.EMBED_LINKS
    return permissions


def missing(effective: int, required: int) -> list[str]:
    """Return the names of the required permissions that `effective` lacks, in bit order."""
    return [p.name or str(p.value) for p in Permission if p & required and not p & effective]
