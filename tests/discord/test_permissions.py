"""The bot's effective permissions, per Discord's documented algorithm, and the invite link."""

from __future__ import annotations

import re

import discord

from bot.discord import permissions
from bot.discord.permissions import (
    ALL,
    FORUM_CHANNEL,
    INVITE,
    THREAD_CHANNEL,
    Member,
    Overwrite,
    Permission,
    base_permissions,
    channel_permissions,
    implicit,
    invite_url,
    missing,
)
from tests.deploy import ROOT

GUILD, OWNER, BOT, ROLE, OTHER_ROLE = 1, 2, 3, 10, 11
VIEW, SEND = int(Permission.VIEW_CHANNEL), int(Permission.SEND_MESSAGES)
EMBED, THREADS = int(Permission.EMBED_LINKS), int(Permission.MANAGE_THREADS)
BOT_MEMBER = Member(BOT, frozenset({ROLE}))
# Bit positions as the Discord docs list them (topics/permissions#permissions-bitwise-...).
DOCUMENTED_BITS = {
    "VIEW_CHANNEL": 10,
    "SEND_MESSAGES": 11,
    "EMBED_LINKS": 14,
    "READ_MESSAGE_HISTORY": 16,
    "MANAGE_THREADS": 34,
    "CREATE_PUBLIC_THREADS": 35,
    "SEND_MESSAGES_IN_THREADS": 38,
}


def role(id_: int, allow: int = 0, deny: int = 0) -> Overwrite:
    """Return a role overwrite."""
    return Overwrite(id_, 0, allow, deny)


def test_the_owner_and_administrators_have_everything() -> None:
    assert base_permissions(GUILD, BOT, {GUILD: 0}, BOT_MEMBER) == ALL
    admin = {GUILD: 0, ROLE: int(Permission.ADMINISTRATOR)}
    base = base_permissions(GUILD, OWNER, admin, BOT_MEMBER)
    assert base == ALL
    assert channel_permissions(base, GUILD, BOT_MEMBER, [role(GUILD, deny=ALL)]) == ALL


def test_base_is_everyone_or_the_members_roles() -> None:
    roles = {GUILD: VIEW, ROLE: SEND, OTHER_ROLE: THREADS}  # OTHER_ROLE is not the bot's
    assert base_permissions(GUILD, OWNER, roles, BOT_MEMBER) == VIEW | SEND


def test_overwrites_apply_everyone_then_roles_then_the_member() -> None:
    base = VIEW | SEND | EMBED
    everyone_denies = [role(GUILD, deny=VIEW | SEND)]
    assert channel_permissions(base, GUILD, BOT_MEMBER, everyone_denies) == EMBED
    role_restores = [*everyone_denies, role(ROLE, allow=VIEW)]
    assert channel_permissions(base, GUILD, BOT_MEMBER, role_restores) == VIEW | EMBED
    member_denies = [*role_restores, Overwrite(BOT, 1, 0, VIEW)]
    assert channel_permissions(base, GUILD, BOT_MEMBER, member_denies) == EMBED


def test_role_overwrites_combine_and_allow_beats_deny_among_roles() -> None:
    member = Member(BOT, frozenset({ROLE, OTHER_ROLE}))
    overwrites = [role(ROLE, deny=SEND), role(OTHER_ROLE, allow=SEND)]
    assert channel_permissions(VIEW | SEND, GUILD, member, overwrites) == VIEW | SEND


def test_overwrites_for_other_roles_and_members_do_not_apply() -> None:
    others = [role(OTHER_ROLE, deny=VIEW), Overwrite(99, 1, 0, VIEW), Overwrite(ROLE, 1, 0, VIEW)]
    assert channel_permissions(VIEW, GUILD, BOT_MEMBER, others) == VIEW


def test_implicit_denials() -> None:
    assert implicit(ALL & ~VIEW, in_threads=True) == 0
    in_threads = implicit(VIEW | EMBED, in_threads=True)
    assert not in_threads & EMBED  # no SEND_MESSAGES_IN_THREADS: no embeds in threads
    threads_only = VIEW | EMBED | int(Permission.SEND_MESSAGES_IN_THREADS)
    assert implicit(threads_only, in_threads=True) & EMBED  # SEND_MESSAGES not needed there
    assert not implicit(threads_only, in_threads=False) & EMBED


def test_missing_names_the_bits_in_order() -> None:
    assert missing(int(THREAD_CHANNEL), int(FORUM_CHANNEL)) == ["SEND_MESSAGES"]
    assert missing(0, VIEW | THREADS) == ["VIEW_CHANNEL", "MANAGE_THREADS"]


def test_the_invite_asks_for_the_documented_bits_and_nothing_else() -> None:
    expected = sum(1 << bit for bit in DOCUMENTED_BITS.values())
    assert int(INVITE) == expected
    flags = {name.lower(): True for name in DOCUMENTED_BITS}
    assert discord.Permissions(**flags).value == expected  # discord.py agrees
    assert invite_url(123).endswith(f"client_id=123&scope=bot&permissions={expected}")


def test_the_readme_invite_url_carries_the_same_integer() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.findall(r"oauth2/authorize\?client_id=[^&\s]+&scope=bot&permissions=(\d+)", readme)
    assert found, "README has no invite URL"
    assert {int(n) for n in found} == {int(permissions.INVITE)}
    for name in DOCUMENTED_BITS:
        assert f"`{name}`" in readme, f"README does not list {name}"
