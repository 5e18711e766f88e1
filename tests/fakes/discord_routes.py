"""The REST endpoints the fake Discord serves: path templates mapped to state operations.

Each endpoint takes the state and a parsed ``Call`` and returns ``(status, json)``; ``None`` json
means an empty 204. Paths are relative to the API base (``/api/v10``), as in Discord's docs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tests.fakes import discord_messages as messages
from tests.fakes import discord_threads as threads
from tests.fakes.discord_models import JSONObject
from tests.fakes.discord_rules import FormErrors
from tests.fakes.discord_state import DiscordState

Reply = tuple[int, Any]


@dataclass(frozen=True)
class Call:
    """One parsed request: path parameters, query string and JSON body."""

    params: Mapping[str, str]
    query: Mapping[str, str]
    body: JSONObject
    raw: object = None  # the JSON body as sent (a list for PUT of commands)

    def id(self, name: str) -> int:
        """Return path parameter ``name`` as a snowflake, or raise Discord's 50035."""
        raw = self.params[name]
        if not raw.isdigit():
            errors = FormErrors()
            errors.add((name,), "NUMBER_TYPE_COERCE", f'Value "{raw}" is not snowflake.')
            errors.raise_if_any()
        return int(raw)

    def int_query(self, name: str) -> int | None:
        """Return query parameter ``name`` as an int, if present."""
        raw = self.query.get(name)
        if raw is None:
            return None
        if not raw.lstrip("-").isdigit():
            errors = FormErrors()
            errors.add((name,), "NUMBER_TYPE_COERCE", f'Value "{raw}" is not int.')
            errors.raise_if_any()
        return int(raw)


Endpoint = Callable[[DiscordState, Call], Reply]


def get_me(state: DiscordState, call: Call) -> Reply:
    """GET /users/@me: the bot user (discord.py's login)."""
    return 200, state.bot.to_json()


def get_application(state: DiscordState, call: Call) -> Reply:
    """GET /oauth2/applications/@me: the bot's application (also part of discord.py's login)."""
    return 200, {
        "id": str(state.application_id),
        "name": state.bot.username,
        "description": "",
        "icon": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": state.bot.to_json(),
        "team": None,
        "verify_key": state.app.verify_key,
        "flags": state.app.flags,
        "rpc_origins": [],
        "summary": "",
        "interactions_endpoint_url": state.app.interactions_endpoint_url,
        "redirect_uris": [],
        "bot": state.bot.to_json(),
    }


def get_channel(state: DiscordState, call: Call) -> Reply:
    """GET /channels/{channel_id}."""
    return 200, state.channel_json(call.id("channel_id"))


def patch_channel(state: DiscordState, call: Call) -> Reply:
    """PATCH /channels/{channel_id}."""
    return 200, threads.edit_channel(state, call.id("channel_id"), call.body)


def post_thread(state: DiscordState, call: Call) -> Reply:
    """POST /channels/{channel_id}/threads (201 Created, as Discord answers)."""
    return 201, threads.create_thread(state, call.id("channel_id"), call.body)


def post_message(state: DiscordState, call: Call) -> Reply:
    """POST /channels/{channel_id}/messages; a nonce repeat returns the first message."""
    message, _created = messages.create_message(state, call.id("channel_id"), call.body)
    return 200, message.to_json(with_nonce=True)


def get_messages(state: DiscordState, call: Call) -> Reply:
    """GET /channels/{channel_id}/messages?before=|after=|around=&limit= (newest first)."""
    anchors = {}
    for name in ("before", "after", "around"):
        value = call.int_query(name)
        if value is not None:
            anchors[name] = value
    found = messages.list_messages(state, call.id("channel_id"), anchors, call.int_query("limit"))
    return 200, found


def get_message(state: DiscordState, call: Call) -> Reply:
    """GET /channels/{channel_id}/messages/{message_id}."""
    return 200, messages.get_message(state, call.id("channel_id"), call.id("message_id"))


def patch_message(state: DiscordState, call: Call) -> Reply:
    """PATCH /channels/{channel_id}/messages/{message_id}."""
    message = messages.edit_message(state, call.id("channel_id"), call.id("message_id"), call.body)
    return 200, message.to_json()


def delete_message(state: DiscordState, call: Call) -> Reply:
    """DELETE /channels/{channel_id}/messages/{message_id} (204)."""
    messages.delete_message(state, call.id("channel_id"), call.id("message_id"))
    return 204, None


def get_archived_public_threads(state: DiscordState, call: Call) -> Reply:
    """GET /channels/{channel_id}/threads/archived/public?before=&limit=."""
    channel_id = call.id("channel_id")
    page = threads.archived_public_threads(
        state, channel_id, call.query.get("before"), call.int_query("limit")
    )
    return 200, page


def put_thread_member_me(state: DiscordState, call: Call) -> Reply:
    """PUT /channels/{channel_id}/thread-members/@me (204)."""
    threads.join_thread(state, call.id("channel_id"))
    return 204, None


def get_guild(state: DiscordState, call: Call) -> Reply:
    """GET /guilds/{guild_id}."""
    return 200, state.guild_json(call.id("guild_id"))


def get_guild_channels(state: DiscordState, call: Call) -> Reply:
    """GET /guilds/{guild_id}/channels."""
    return 200, state.guild_channels_json(call.id("guild_id"))


def get_guild_roles(state: DiscordState, call: Call) -> Reply:
    """GET /guilds/{guild_id}/roles."""
    return 200, state.roles_json(call.id("guild_id"))


def get_guild_member(state: DiscordState, call: Call) -> Reply:
    """GET /guilds/{guild_id}/members/{user_id}."""
    return 200, state.member_json(call.id("guild_id"), call.id("user_id"))


def get_active_threads(state: DiscordState, call: Call) -> Reply:
    """GET /guilds/{guild_id}/threads/active."""
    return 200, threads.active_threads(state, call.id("guild_id"))


def patch_original(state: DiscordState, call: Call) -> Reply:
    """PATCH /webhooks/{application_id}/{token}/messages/@original (the token authorises)."""
    return 200, state.app.edit_original(call.id("application_id"), call.params["token"], call.body)


def put_global_commands(state: DiscordState, call: Call) -> Reply:
    """PUT /applications/{application_id}/commands: replace the global commands."""
    return 200, state.app.put_commands(call.id("application_id"), None, call.raw)


def put_guild_commands(state: DiscordState, call: Call) -> Reply:
    """PUT /applications/{application_id}/guilds/{guild_id}/commands (apply at once)."""
    guild_id = call.id("guild_id")
    state.guild(guild_id)
    return 200, state.app.put_commands(call.id("application_id"), guild_id, call.raw)


def get_guild_commands(state: DiscordState, call: Call) -> Reply:
    """GET /applications/{application_id}/guilds/{guild_id}/commands."""
    return 200, state.app.guild_commands.get(call.id("guild_id"), [])


ROUTES: tuple[tuple[str, str, Endpoint], ...] = (
    ("GET", "/users/@me", get_me),
    ("GET", "/oauth2/applications/@me", get_application),
    ("GET", "/channels/{channel_id}", get_channel),
    ("PATCH", "/channels/{channel_id}", patch_channel),
    ("POST", "/channels/{channel_id}/threads", post_thread),
    ("POST", "/channels/{channel_id}/messages", post_message),
    ("GET", "/channels/{channel_id}/messages", get_messages),
    ("GET", "/channels/{channel_id}/messages/{message_id}", get_message),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}", patch_message),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}", delete_message),
    ("GET", "/channels/{channel_id}/threads/archived/public", get_archived_public_threads),
    ("PUT", "/channels/{channel_id}/thread-members/@me", put_thread_member_me),
    ("GET", "/guilds/{guild_id}", get_guild),
    ("GET", "/guilds/{guild_id}/channels", get_guild_channels),
    ("GET", "/guilds/{guild_id}/roles", get_guild_roles),
    ("GET", "/guilds/{guild_id}/members/{user_id}", get_guild_member),
    ("GET", "/guilds/{guild_id}/threads/active", get_active_threads),
    ("PATCH", "/webhooks/{application_id}/{token}/messages/@original", patch_original),
    ("PUT", "/applications/{application_id}/commands", put_global_commands),
    ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", put_guild_commands),
    ("GET", "/applications/{application_id}/guilds/{guild_id}/commands", get_guild_commands),
)
