"""What exists in the fake Discord: seeded guilds and channels, the bot's threads and messages.

No HTTP here. Lookups raise Discord's 404s; writes live in ``discord_threads`` and
``discord_messages``, which apply Discord's rules to this state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tests.fakes.discord_app import FakeApplication
from tests.fakes.discord_clock import FakeClock, Snowflakes, iso
from tests.fakes.discord_models import (
    BOT_ROLE_PERMISSIONS,
    EVERYONE_PERMISSIONS,
    FORUM_CHANNEL,
    REQUIRE_TAG_FLAG,
    TEXT_CHANNEL,
    Channel,
    ForumTag,
    Guild,
    JSONObject,
    Message,
    Role,
    Thread,
    User,
)
from tests.fakes.discord_rules import unknown

TagSpec = str | Mapping[str, Any]


class DiscordState:
    """Guilds and channels a test seeds, and the threads and messages the bot makes in them."""

    def __init__(
        self,
        clock: FakeClock,
        *,
        bot_name: str = "prbot",
        nonce_window_s: float = 300.0,
        rename_limit: int = 2,
        rename_window_s: float = 600.0,
    ) -> None:
        self.clock = clock
        self.ids = Snowflakes(clock)
        self.bot = User(self.ids.next(), bot_name, bot=True)
        self.application_id = self.ids.next()
        self.app = FakeApplication(self.application_id, clock, self.ids)
        self.nonce_window_s = nonce_window_s
        self.rename_limit = rename_limit
        self.rename_window_s = rename_window_s
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.threads: dict[int, Thread] = {}
        self.messages: dict[int, list[Message]] = {}
        # (channel id, author id, str(nonce)) -> the last message sent with that nonce.
        self.nonces: dict[tuple[int, int, str], Message] = {}

    # -- seeding -------------------------------------------------------------------------------

    def add_guild(
        self, name: str = "prbot-test", *, bot_permissions: int = BOT_ROLE_PERMISSIONS
    ) -> Guild:
        """Create a guild with an @everyone role and a bot role the bot member holds."""
        guild_id = self.ids.next()
        guild = Guild(id=guild_id, name=name, owner_id=self.ids.next(), joined_at=self.clock.now())
        guild.roles[guild_id] = Role(guild_id, "@everyone", permissions=EVERYONE_PERMISSIONS)
        bot_role = Role(self.ids.next(), self.bot.username, permissions=bot_permissions, position=1)
        guild.roles[bot_role.id] = bot_role
        guild.member_roles[self.bot.id] = [bot_role.id]
        self.guilds[guild_id] = guild
        return guild

    def add_role(
        self,
        guild_id: int,
        name: str,
        *,
        permissions: int = 0,
        mentionable: bool = False,
        assign_to_bot: bool = False,
    ) -> Role:
        """Add a role to a guild, optionally giving it to the bot."""
        guild = self.guild(guild_id)
        role = Role(self.ids.next(), name, permissions, len(guild.roles), mentionable)
        guild.roles[role.id] = role
        if assign_to_bot:
            guild.member_roles[self.bot.id].append(role.id)
        return role

    def add_text_channel(
        self,
        guild_id: int,
        name: str = "pull-requests",
        *,
        permission_overwrites: Sequence[JSONObject] = (),
        default_auto_archive_duration: int = 1440,
    ) -> Channel:
        """Add a text channel (type 0)."""
        channel = self._add_channel(guild_id, name, TEXT_CHANNEL, permission_overwrites)
        channel.default_auto_archive_duration = default_auto_archive_duration
        return channel

    def add_forum_channel(
        self,
        guild_id: int,
        name: str = "pull-requests-forum",
        *,
        tags: Sequence[TagSpec] = (),
        require_tag: bool = False,
        permission_overwrites: Sequence[JSONObject] = (),
        default_auto_archive_duration: int = 1440,
    ) -> Channel:
        """Add a forum channel (type 15) offering ``tags`` (names or tag dicts)."""
        channel = self._add_channel(guild_id, name, FORUM_CHANNEL, permission_overwrites)
        channel.default_auto_archive_duration = default_auto_archive_duration
        channel.available_tags = [self._make_tag(spec) for spec in tags]
        channel.flags = REQUIRE_TAG_FLAG if require_tag else 0
        return channel

    def _add_channel(
        self, guild_id: int, name: str, kind: int, overwrites: Sequence[JSONObject]
    ) -> Channel:
        self.guild(guild_id)
        position = sum(1 for c in self.channels.values() if c.guild_id == guild_id)
        channel_id = self.ids.next()
        channel = Channel(channel_id, guild_id, name, kind, position, [dict(o) for o in overwrites])
        self.channels[channel.id] = channel
        self.messages[channel.id] = []
        return channel

    def _make_tag(self, spec: TagSpec) -> ForumTag:
        if isinstance(spec, str):
            return ForumTag(self.ids.next(), spec)
        emoji_id = spec.get("emoji_id")
        return ForumTag(
            id=int(spec.get("id") or self.ids.next()),
            name=str(spec["name"]),
            moderated=bool(spec.get("moderated", False)),
            emoji_id=None if emoji_id is None else int(emoji_id),
            emoji_name=spec.get("emoji_name"),
        )

    # -- lookups (Discord's 404s) ----------------------------------------------------------------

    def guild(self, guild_id: int) -> Guild:
        """Return a guild or raise Unknown Guild."""
        if guild_id not in self.guilds:
            raise unknown("Guild")
        return self.guilds[guild_id]

    def channel(self, channel_id: int) -> Channel:
        """Return a text or forum channel (not a thread) or raise Unknown Channel."""
        if channel_id not in self.channels:
            raise unknown("Channel")
        return self.channels[channel_id]

    def thread(self, thread_id: int) -> Thread:
        """Return a thread, auto-archived if it idled too long, or raise Unknown Channel."""
        if thread_id not in self.threads:
            raise unknown("Channel")
        return self.refresh(self.threads[thread_id])

    def all_threads(self) -> list[Thread]:
        """Return every thread, oldest first, with auto-archiving applied."""
        return [self.refresh(t) for t in self.threads.values()]

    def refresh(self, thread: Thread) -> Thread:
        """Auto-archive a thread idle for ``auto_archive_duration`` minutes of fake time."""
        expires = thread.last_activity + thread.auto_archive_duration * 60
        if not thread.archived and self.clock.now() >= expires:
            thread.archived = True
            thread.archive_timestamp = expires
        return thread

    # -- reads ---------------------------------------------------------------------------------

    def channel_json(self, channel_id: int) -> JSONObject:
        """GET /channels/{id}: a guild channel or a thread."""
        if channel_id in self.threads:
            return self.thread(channel_id).to_json()
        return self.channel(channel_id).to_json()

    def guild_json(self, guild_id: int) -> JSONObject:
        """GET /guilds/{id}."""
        return self.guild(guild_id).to_json()

    def guild_channels_json(self, guild_id: int) -> list[JSONObject]:
        """GET /guilds/{id}/channels (threads are not listed, as on Discord)."""
        self.guild(guild_id)
        return [c.to_json() for c in self.channels.values() if c.guild_id == guild_id]

    def roles_json(self, guild_id: int) -> list[JSONObject]:
        """GET /guilds/{id}/roles."""
        return [role.to_json() for role in self.guild(guild_id).roles.values()]

    def member_json(self, guild_id: int, user_id: int) -> JSONObject:
        """GET /guilds/{id}/members/{user_id}; only the bot is a known member."""
        guild = self.guild(guild_id)
        if user_id not in guild.member_roles:
            raise unknown("Member")
        return {
            "user": self.bot.to_json(),
            "roles": [str(r) for r in guild.member_roles[user_id]],
            "joined_at": iso(guild.joined_at),
            "nick": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
        }

    # -- inspection ----------------------------------------------------------------------------

    def threads_in(self, channel_id: int) -> list[Thread]:
        """Return the threads under a channel, oldest first."""
        return [t for t in self.all_threads() if t.parent_id == channel_id]

    def messages_in(self, channel_id: int) -> list[Message]:
        """Return the messages in a channel or thread, oldest first."""
        return list(self.messages.get(channel_id, []))

    def snapshot(self) -> JSONObject:
        """Return the whole state as JSON (GET /_fake/state)."""
        messages = {str(cid): [m.record_json() for m in ms] for cid, ms in self.messages.items()}
        return {
            "now": self.clock.now(),
            "bot": self.bot.to_json(),
            "guilds": [g.to_json() for g in self.guilds.values()],
            "channels": [c.to_json() for c in self.channels.values()],
            "threads": [t.to_json() for t in self.all_threads()],
            "messages": {cid: ms for cid, ms in messages.items() if ms},
        }
