"""Discord's side of HTTP interactions: build command payloads, sign them, POST them to an app.

    sender = InteractionSender(fake.state.app, "http://127.0.0.1:PORT/discord/interactions")
    interaction, response = await sender.send(sender.slash("pr", "status", member=alice, ...))

Payloads are shaped as https://discord.com/developers/docs/interactions/receiving-and-responding
documents them (v10); each gets an id and a token that lives 15 minutes on the fake's clock.
The endpoint's answer is kept on the interaction, as Discord keeps the original response.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from tests.fakes.discord_app import FakeApplication, Interaction
from tests.fakes.discord_models import JSONObject

PING, APPLICATION_COMMAND = 1, 2
ALL_PERMISSIONS = (1 << 47) - 1
MANAGE_GUILD = 1 << 5
# What an ordinary member has in a channel: view, send, embed, history, threads.
MEMBER_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 35) | (1 << 38)
Signature = Literal["valid", "missing", "bad", "other-key"]


@dataclass(frozen=True)
class Member:
    """Someone using a command, with their permissions in the channel."""

    id: int
    username: str
    permissions: int = MEMBER_PERMISSIONS

    def to_json(self) -> JSONObject:
        """Return the interaction's `member` object."""
        user = {
            "id": str(self.id),
            "username": self.username,
            "global_name": None,
            "discriminator": "0",
            "avatar": None,
        }
        return {
            "user": user,
            "roles": [],
            "nick": None,
            "permissions": str(self.permissions),
            "joined_at": "2024-05-01T10:00:00+00:00",
            "deaf": False,
            "mute": False,
        }


class InteractionSender:
    """Sends interactions to an app's endpoint as Discord does; keeps each answer."""

    def __init__(self, app: FakeApplication, url: str) -> None:
        self.app = app
        self.url = url

    def _base(self, member: Member, guild_id: int, channel_id: int) -> JSONObject:
        return {
            "type": APPLICATION_COMMAND,
            "version": 1,
            "guild_id": str(guild_id),
            "channel_id": str(channel_id),
            "channel": {"id": str(channel_id), "type": 11},
            "member": member.to_json(),
            "locale": "en-US",
            "guild_locale": "en-US",
            "app_permissions": str(ALL_PERMISSIONS),
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0,
        }

    def slash(
        self,
        command: str,
        sub: str,
        options: dict[str, Any] | None = None,
        *,
        member: Member,
        guild_id: int,
        channel_id: int,
    ) -> JSONObject:
        """Return a `/command sub option:value…` interaction."""
        values = [
            {"type": 6 if name == "member" else 3, "name": name, "value": value}
            for name, value in (options or {}).items()
        ]
        data = {
            "id": str(self.app.ids.next()),
            "name": command,
            "type": 1,
            "options": [{"type": 1, "name": sub, "options": values}],
        }
        return {**self._base(member, guild_id, channel_id), "data": data}

    def message_command(
        self, name: str, target: JSONObject, *, member: Member, guild_id: int, channel_id: int
    ) -> JSONObject:
        """Return a message command used on `target` (a message object)."""
        resolved = {"messages": {target["id"]: target}}
        data = {
            "id": str(self.app.ids.next()),
            "name": name,
            "type": 3,
            "target_id": target["id"],
            "resolved": resolved,
        }
        return {**self._base(member, guild_id, channel_id), "data": data}

    def ping(self) -> JSONObject:
        """Return the PING Discord sends when the endpoint URL is saved."""
        return {"type": PING, "version": 1}

    async def send(
        self, payload: JSONObject, signature: Signature = "valid"
    ) -> tuple[Interaction, httpx.Response]:
        """Open the interaction, POST it signed (or not), and keep the endpoint's answer."""
        interaction = self.app.open_interaction(payload)
        body = json.dumps(interaction.payload, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "User-Agent": "Discord-Interactions/1.0"}
        if signature != "missing":
            signed = self.app.sign(timestamp, body)
            if signature == "bad":  # flip one bit, as Discord's security check does
                signed = f"{int(signed[0], 16) ^ 1:x}" + signed[1:]
            elif signature == "other-key":
                signed = FakeApplication(0, self.app.clock, self.app.ids).sign(timestamp, body)
            headers |= {"X-Signature-Ed25519": signed, "X-Signature-Timestamp": timestamp}
        async with httpx.AsyncClient(timeout=3.0) as client:  # Discord waits 3 s
            response = await client.post(self.url, content=body, headers=headers)
        interaction.status = response.status_code
        if response.status_code == 200:
            interaction.response = response.json()
        return interaction, response
