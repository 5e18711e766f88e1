"""prbot's application commands, and the REST calls about the application itself.

The commands (https://discord.com/developers/docs/interactions/application-commands): `/pr
status|link|unlink` for everyone, `/prbot failed|replay|link` for members who may manage the
server (Discord hides them from others by `default_member_permissions`; the runs check the
permissions each interaction carries too), and the message command `Post to PR`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.discord.errors import translated
from bot.discord.http import discord
from bot.discord.interactions import MANAGE_GUILD, MESSAGE_COMMAND

# https://discord.com/developers/docs/interactions/application-commands#application-command-object-application-command-option-type
_SUB, _STRING, _USER = 1, 3, 6
_GUILD_ONLY = [0]  # interaction context GUILD


def _sub(name: str, description: str, *options: dict[str, Any]) -> dict[str, Any]:
    return {"type": _SUB, "name": name, "description": description, "options": list(options)}


def _text(name: str, description: str) -> dict[str, Any]:
    return {"type": _STRING, "name": name, "description": description, "required": True}


COMMANDS: tuple[dict[str, Any], ...] = (
    {
        "name": "pr",
        "type": 1,
        "description": "The pull request of this thread",
        "contexts": _GUILD_ONLY,
        "options": [
            _sub("status", "State, reviewers and their verdicts, checks (only you see it)"),
            _sub(
                "link",
                "Link your GitHub login; you prove it on GitHub",
                _text("github_login", "Your login on GitHub"),
            ),
            _sub("unlink", "Unlink your GitHub login"),
        ],
    },
    {
        "name": "prbot",
        "type": 1,
        "description": "prbot administration (Manage Server)",
        "contexts": _GUILD_ONLY,
        "default_member_permissions": str(MANAGE_GUILD),
        "options": [
            _sub("failed", "The latest failed runs"),
            _sub(
                "replay",
                "Run a recorded delivery again",
                _text("delivery_id", "The delivery id (X-GitHub-Delivery)"),
            ),
            _sub(
                "link",
                "Link a member to a GitHub login",
                {"type": _USER, "name": "member", "description": "The member", "required": True},
                _text("github_login", "Their login on GitHub"),
            ),
        ],
    },
    {"name": "Post to PR", "type": MESSAGE_COMMAND, "contexts": _GUILD_ONLY},
)


@dataclass(frozen=True)
class Registered:
    """A command as Discord registered it."""

    id: int
    name: str
    type: int


async def register_commands(
    client: discord.Client, application_id: int, guild_id: int | None
) -> list[Registered]:
    """Replace the application's commands in one guild (at once) or globally (PUT, bulk)."""
    http = client.http
    payload = [dict(c) for c in COMMANDS]
    if guild_id is None:
        with translated("PUT /applications/{id}/commands", None):
            data = await http.bulk_upsert_global_commands(application_id, payload)
    else:
        with translated("PUT /applications/{id}/guilds/{id}/commands", None):
            data = await http.bulk_upsert_guild_commands(application_id, guild_id, payload)
    return [Registered(int(c["id"]), c["name"], int(c.get("type", 1))) for c in data]


@dataclass(frozen=True)
class AppFacts:
    """The application as discord.py read it at login (`GET /oauth2/applications/@me`)."""

    id: int
    verify_key: str  # the public key interactions are signed with (hex)
    interactions_endpoint_url: str | None
    message_content: bool  # may the gateway read message content (see below)


def app_facts(client: discord.Client) -> AppFacts | None:
    """Return the logged-in client's application, None before login.

    `message_content`: the flags GATEWAY_MESSAGE_CONTENT (1 << 18, verified apps) or
    GATEWAY_MESSAGE_CONTENT_LIMITED (1 << 19, the switch on for an app in under 100 servers),
    https://discord.com/developers/docs/resources/application#application-object-application-flags
    """
    app = client.application
    if app is None:
        return None
    flags = client.application_flags
    allowed = flags.gateway_message_content or flags.gateway_message_content_limited
    return AppFacts(app.id, app.verify_key, app.interactions_endpoint_url, allowed)
