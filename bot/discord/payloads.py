"""Discord's JSON payloads as prbot reads them: only the fields it uses, parsed once, here."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from bot.discord.shapes import EmbedSpec, PostedMessage, ThreadInfo


class Payload(BaseModel):
    """A Discord object; unknown fields are ignored."""

    model_config = ConfigDict(extra="ignore")


class Tag(Payload):
    """A forum tag (`available_tags`)."""

    id: int = 0
    name: str


class Overwrite(Payload):
    """A permission overwrite: type 0 = role, 1 = member."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0


class ThreadMeta(Payload):
    """`thread_metadata` of a thread."""

    archived: bool = False
    locked: bool = False
    archive_timestamp: str | None = None


class Channel(Payload):
    """A channel, thread or forum post."""

    id: int
    type: int
    name: str = ""
    guild_id: int | None = None
    parent_id: int | None = None
    thread_metadata: ThreadMeta | None = None
    applied_tags: list[int] = []
    available_tags: list[Tag] = []
    permission_overwrites: list[Overwrite] = []
    total_message_sent: int = 0

    def thread(self) -> ThreadInfo:
        """Return the thread as prbot's shape."""
        meta = self.thread_metadata or ThreadMeta()
        return ThreadInfo(
            self.id,
            self.name,
            self.parent_id,
            meta.archived,
            meta.locked,
            tuple(self.applied_tags),
            self.total_message_sent,
            meta.archive_timestamp if meta.archived else None,
        )


class ThreadPage(Payload):
    """A page of active or archived threads."""

    threads: list[Channel] = []
    has_more: bool = False


class Role(Payload):
    """A guild role and its permissions."""

    id: int
    permissions: int = 0


class Guild(Payload):
    """A guild: its owner and roles."""

    id: int
    name: str = ""
    owner_id: int
    roles: list[Role] = []


class GuildMember(Payload):
    """A guild member's role ids."""

    roles: list[int] = []


class Snowflake(Payload):
    """Any object of which only the id matters (a created message)."""

    id: int


class Author(Payload):
    """Who wrote a message."""

    id: int


class Embed(Payload):
    """The parts of an embed prbot compares with what it sent."""

    title: str | None = None
    url: str | None = None
    description: str | None = None


class Message(Payload):
    """A message in a channel's history."""

    id: int
    author: Author
    content: str = ""
    embeds: list[Embed] = []

    def posted(self) -> PostedMessage:
        """Return the message as prbot's shape."""
        embeds = tuple(EmbedSpec(e.title, e.url, e.description) for e in self.embeds)
        return PostedMessage(self.id, self.content, embeds)
