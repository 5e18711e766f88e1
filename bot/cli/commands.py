"""`prbot commands sync [--guild ID]`: register prbot's slash commands with Discord.

Commands registered in one server apply at once; global ones reach every server the bot is in.
The application id comes from DISCORD_APPLICATION_ID, else from Discord at login.
"""

from __future__ import annotations

import sys

from bot.discord.application import app_facts, register_commands
from bot.discord.rest import DiscordRestAdapter
from bot.runtime import PrbotError
from bot.settings import Settings

KINDS = {1: "slash command", 2: "user command", 3: "message command"}


async def sync_command(settings: Settings, guild_id: int | None) -> int:
    """Replace the application's commands (in one server, or globally); return the exit code."""
    if settings.discord_token is None:
        print("prbot: commands sync needs DISCORD_TOKEN", file=sys.stderr)
        return 2
    token = settings.discord_token.get_secret_value()
    try:
        adapter = await DiscordRestAdapter.login(token, settings.discord_api_base)
    except PrbotError as exc:
        print(f"prbot: cannot log in to Discord: {exc}", file=sys.stderr)
        return 1
    try:
        facts = app_facts(adapter.client)
        app_id = settings.discord_application_id or (facts.id if facts else None)
        if app_id is None:
            print("prbot: no application id: set DISCORD_APPLICATION_ID", file=sys.stderr)
            return 2
        registered = await register_commands(adapter.client, app_id, guild_id)
    except PrbotError as exc:
        print(f"prbot: Discord refused the commands: {exc}", file=sys.stderr)
        return 1
    finally:
        await adapter.close()
    where = f"in server {guild_id} (they apply at once)" if guild_id else "globally"
    print(f"registered {len(registered)} commands for application {app_id} {where}:")
    for command in registered:
        name = f"/{command.name}" if command.type == 1 else command.name
        print(f"  {name}  ({KINDS.get(command.type, 'command')}, id {command.id})")
    return 0
