"""`prbot check` on the application: the MESSAGE_CONTENT intent, the interactions key and URL."""

from __future__ import annotations

import pytest

from bot.discord.gateway import PORTAL_HINT
from tests.ops.test_check import Server, failed, rows, server

__all__ = ["server"]


@pytest.mark.parametrize(
    ("flags", "status"), [(0, "warn"), (1 << 18, "ok"), (1 << 19, "ok"), (1 << 15, "warn")]
)
async def test_the_message_content_intent_row_reads_the_application_flags(
    server: Server, flags: int, status: str
) -> None:
    server.fake.state.app.flags = flags
    found, _ = await rows(server.env())
    row = found["MESSAGE_CONTENT intent"]
    assert row.status == status
    if status == "warn":  # says how to switch it on
        assert PORTAL_HINT in row.detail and "Privileged Gateway Intents" in row.detail


async def test_the_interactions_key_must_be_the_applications(server: Server) -> None:
    app = server.fake.state.app
    found, _ = await rows(server.env())
    assert found["slash commands"].status == "skip"
    found, _ = await rows(server.env(DISCORD_PUBLIC_KEY=app.verify_key.upper()))
    assert found["slash commands"].status == "warn"  # right key, no endpoint URL set yet
    assert "https://YOUR-HOST/discord/interactions" in found["slash commands"].detail
    app.interactions_endpoint_url = "https://prbot.example.com/discord/interactions"
    found, _ = await rows(server.env(DISCORD_PUBLIC_KEY=app.verify_key))
    assert found["slash commands"].status == "ok"
    assert found["slash commands"].detail.endswith(app.interactions_endpoint_url)
    found, _ = await rows(server.env(DISCORD_PUBLIC_KEY="ab" * 32))
    assert "not this application's public key" in failed(found)["slash commands"]


async def test_a_wrong_application_id_is_a_problem(server: Server) -> None:
    found, _ = await rows(server.env(DISCORD_APPLICATION_ID="42"))
    app_id = server.fake.state.application_id
    assert (
        failed(found)["DISCORD_APPLICATION_ID"] == f"is 42, but the bot's application is {app_id}"
    )
    found, _ = await rows(server.env(DISCORD_APPLICATION_ID=str(app_id)))
    assert "DISCORD_APPLICATION_ID" not in found
