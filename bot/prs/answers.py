"""Slash commands as events, and their answers: the deferred reply a durable run completes.

The route turns a verified interaction into the event `discord/interaction.<command>` (id
`discord-interaction-<interaction id>`, so a repeat is a duplicate). The interaction token,
which lets anyone holding it answer for 15 minutes, stays out of the event (events are listed
by the dashboard and kept for days): it is kept in the store for its 15 minutes only.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from bot.discord import DiscordAdapter, DiscordApiError, OutMessage
from bot.discord.interactions import ADMINISTRATOR, MANAGE_GUILD, TOKEN_TTL_S, Invocation
from bot.runtime import Event, NonRetriableError, Store

PREFIX = "discord/interaction."


class Who(BaseModel):
    """The member who used the command, as Discord signed it."""

    model_config = ConfigDict(frozen=True)

    id: int
    name: str = ""


class Target(BaseModel):
    """The message a message command was used on."""

    model_config = ConfigDict(frozen=True)

    id: int
    channel_id: int
    author_id: int
    author_name: str = ""
    content: str = ""
    author_bot: bool = False
    webhook_id: int | None = None


class Command(BaseModel):
    """The data of a `discord/interaction.*` event."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    interaction_id: int
    application_id: int
    command: str
    options: dict[str, str | int | float | bool] = {}
    user: Who
    permissions: int = 0
    guild_id: int | None = None
    channel_id: int | None = None
    target: Target | None = None

    @property
    def is_admin(self) -> bool:
        """Tell whether the member may manage the server, by the permissions Discord sent."""
        return self.guild_id is not None and bool(self.permissions & (MANAGE_GUILD | ADMINISTRATOR))

    def text(self, name: str) -> str:
        """Return a string option ('' when absent)."""
        return str(self.options.get(name, "")).strip()


def interaction_event(invocation: Invocation) -> Event:
    """Return the event of a command (without its token)."""
    target = invocation.target
    data = {
        "interaction_id": str(invocation.id),
        "application_id": str(invocation.application_id),
        "command": invocation.name,
        "options": invocation.options,
        "user": {"id": str(invocation.user_id), "name": invocation.user_name},
        "permissions": str(invocation.permissions),
        "guild_id": str(invocation.guild_id) if invocation.guild_id else None,
        "channel_id": str(invocation.channel_id) if invocation.channel_id else None,
        "target": None
        if target is None
        else {
            "id": str(target.id),
            "channel_id": str(target.channel_id),
            "author_id": str(target.author_id),
            "author_name": target.author_name,
            "content": target.content,
            "author_bot": target.author_bot,
            "webhook_id": str(target.webhook_id) if target.webhook_id else None,
        },
    }
    return Event(
        name=PREFIX + invocation.name, id=f"discord-interaction-{invocation.id}", data=data
    )


async def keep_token(store: Store, interaction_id: int, token: str) -> None:
    """Keep an interaction's token in the store until Discord stops taking it."""
    fields = {"token": token}
    await store.data.update("interaction", str(interaction_id), fields, TOKEN_TTL_S * 1000)


class Answers:
    """The answers to commands, edited in with the tokens the store keeps."""

    def __init__(self, store: Store, discord: DiscordAdapter) -> None:
        self.data = store.data
        self.discord = discord

    async def answer(self, command: Command, content: str, late_ok: bool = False) -> str:
        """Edit the command's deferred answer into `content` (pinging nobody); return it.

        Past the token's 15 minutes there is no answering: an error, or '' with `late_ok`.
        """
        token = await self.data.field("interaction", str(command.interaction_id), "token")
        if not token:
            if late_ok:
                return ""
            raise NonRetriableError("the interaction's token expired (15 minutes): no answer")
        message = OutMessage(content=content[:2000])
        try:
            await self.discord.respond(command.application_id, token, message)
        except DiscordApiError as exc:
            if late_ok and exc.status == 404:  # Discord no longer takes the token
                return ""
            raise
        return content
