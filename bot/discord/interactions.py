"""Discord interactions over HTTP, the pure part: verify the signature, parse, build answers.

https://discord.com/developers/docs/interactions/overview#preparing-for-interactions: every
request carries `X-Signature-Ed25519` over `X-Signature-Timestamp` + the raw body, made with the
application's key; Discord sends invalid signatures on purpose and expects 401. PING (type 1) is
answered PONG; anything else within 3 s, here always "deferred" (type 5), ephemeral (flags 64):
a durable run completes it by editing `@original` while the token lives (15 minutes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

SIGNATURE_HEADER = "X-Signature-Ed25519"
TIMESTAMP_HEADER = "X-Signature-Timestamp"
# https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object
PING = 1
APPLICATION_COMMAND = 2
# https://discord.com/developers/docs/interactions/application-commands#application-command-object
CHAT_INPUT = 1
MESSAGE_COMMAND = 3
SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
# https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object
PONG = 1
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
EPHEMERAL = 1 << 6
# https://discord.com/developers/docs/topics/permissions#permissions-bitwise-permission-flags
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
TOKEN_TTL_S = 15 * 60


class InteractionError(ValueError):
    """The request is not a valid interaction; `status` is the HTTP answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def verify(public_key_hex: str, signature_hex: str, timestamp: str, body: bytes) -> None:
    """Check Discord's Ed25519 signature over timestamp + body; raise a 401 error if wrong."""
    if not signature_hex or not timestamp:
        raise InteractionError("missing signature headers", 401)
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(bytes.fromhex(signature_hex), timestamp.encode() + body)
    except (ValueError, InvalidSignature):
        raise InteractionError("invalid request signature", 401) from None


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _User(_Model):
    id: int
    username: str = ""
    global_name: str | None = None


class _Member(_Model):
    user: _User
    nick: str | None = None
    permissions: int = 0  # computed in the channel, overwrites included (a string on the wire)


class _Option(_Model):
    name: str
    type: int
    value: str | int | float | bool | None = None
    options: list[_Option] = []


class _Author(_Model):
    id: int
    username: str = ""
    global_name: str | None = None
    bot: bool = False


class _Message(_Model):
    id: int
    channel_id: int
    content: str = ""
    author: _Author
    timestamp: str = ""
    webhook_id: int | None = None


class _Resolved(_Model):
    messages: dict[str, _Message] = {}


class _Data(_Model):
    name: str
    type: int = CHAT_INPUT
    options: list[_Option] = []
    target_id: int | None = None
    resolved: _Resolved = Field(default_factory=_Resolved)


class _Interaction(_Model):
    id: int
    application_id: int
    type: int
    token: str = ""
    guild_id: int | None = None
    channel_id: int | None = None
    member: _Member | None = None
    user: _User | None = None
    data: _Data | None = None


@dataclass(frozen=True)
class TargetMessage:
    """The message a message command was used on (`data.resolved.messages`)."""

    id: int
    channel_id: int
    author_id: int
    author_name: str
    content: str
    author_bot: bool = False
    webhook_id: int | None = None


@dataclass(frozen=True)
class Invocation:
    """One command as a member used it: who, where, what, and the token to answer with."""

    id: int
    application_id: int
    token: str
    name: str  # `pr.status`, `prbot.link`, `post-to-pr`: the event is discord/interaction.<name>
    options: dict[str, str | int | float | bool] = field(default_factory=dict)
    user_id: int = 0
    user_name: str = ""
    permissions: int = 0
    guild_id: int | None = None
    channel_id: int | None = None
    target: TargetMessage | None = None

    @property
    def is_admin(self) -> bool:
        """Tell whether the member may manage the server (from the interaction's permissions)."""
        return self.guild_id is not None and bool(self.permissions & (MANAGE_GUILD | ADMINISTRATOR))


def command_slug(name: str) -> str:
    """Return a command name as an event name part: `Post to PR` -> `post-to-pr`."""
    return re.sub(r"[^a-z0-9_-]+", "-", name.strip().casefold()).strip("-")


def _flatten(options: list[_Option]) -> tuple[list[str], dict[str, str | int | float | bool]]:
    path: list[str] = []
    values: dict[str, str | int | float | bool] = {}
    while len(options) == 1 and options[0].type in (SUB_COMMAND, SUB_COMMAND_GROUP):
        path.append(options[0].name)
        options = options[0].options
    for option in options:
        if option.value is not None:
            values[option.name] = option.value
    return path, values


def _target(data: _Data) -> TargetMessage | None:
    if data.type != MESSAGE_COMMAND or data.target_id is None:
        return None
    found = data.resolved.messages.get(str(data.target_id))
    if found is None:
        return None
    name = found.author.global_name or found.author.username
    return TargetMessage(
        found.id,
        found.channel_id,
        found.author.id,
        name,
        found.content,
        found.author.bot,
        found.webhook_id,
    )


def parse(body: bytes) -> Invocation | None:
    """Parse a verified request: None for PING, else the command invocation."""
    try:
        raw = _Interaction.model_validate_json(body)
    except ValidationError as exc:
        raise InteractionError(f"not an interaction: {exc.error_count()} errors", 400) from None
    if raw.type == PING:
        return None
    if raw.type != APPLICATION_COMMAND or raw.data is None:
        raise InteractionError(f"interaction type {raw.type} is not handled", 400)
    path, options = _flatten(raw.data.options)
    who = raw.member.user if raw.member is not None else raw.user
    if who is None:
        raise InteractionError("interaction without a user", 400)
    nick = raw.member.nick if raw.member is not None else None
    return Invocation(
        id=raw.id,
        application_id=raw.application_id,
        token=raw.token,
        name=".".join(command_slug(n) for n in [raw.data.name, *path]),
        options=options,
        user_id=who.id,
        user_name=nick or who.global_name or who.username,
        permissions=raw.member.permissions if raw.member is not None else 0,
        guild_id=raw.guild_id,
        channel_id=raw.channel_id,
        target=_target(raw.data),
    )


def pong() -> dict[str, Any]:
    """Return the answer to Discord's PING."""
    return {"type": PONG}


def deferred() -> dict[str, Any]:
    """Return "thinking…", only the member sees it; a run edits it into the answer."""
    return {"type": DEFERRED_CHANNEL_MESSAGE, "data": {"flags": EPHEMERAL}}


def said(content: str) -> dict[str, Any]:
    """Return an immediate ephemeral answer that pings nobody."""
    data = {"content": content, "flags": EPHEMERAL, "allowed_mentions": {"parse": []}}
    return {"type": CHANNEL_MESSAGE, "data": data}
