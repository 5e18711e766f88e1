"""The fake application's rules: command validation, interaction tokens that live 15 minutes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.discord.application import COMMANDS
from tests.fakes.discord_server import FakeDiscord


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """Yield a started fake Discord."""
    async with FakeDiscord() as started:
        yield started


async def put(fake: FakeDiscord, body: Any, app_id: int | None = None) -> httpx.Response:
    """PUT global commands as the bot."""
    url = f"{fake.api_base}/applications/{app_id or fake.state.application_id}/commands"
    async with httpx.AsyncClient() as client:
        return await client.put(url, json=body, headers={"Authorization": f"Bot {fake.token}"})


async def test_prbots_commands_are_valid_and_bad_ones_are_refused(fake: FakeDiscord) -> None:
    assert (await put(fake, list(COMMANDS))).status_code == 200
    bad = [
        {"name": "PR", "type": 1, "description": "upper case"},
        {"name": "x", "type": 1, "description": "d" * 101},
        {
            "name": "y",
            "type": 1,
            "description": "ok",
            "options": [
                {"type": 3, "name": "a", "description": "optional"},
                {"type": 3, "name": "b", "description": "required", "required": True},
            ],
        },
        {"name": "Post to PR", "type": 3},
        {"name": "Post to PR", "type": 3},
    ]
    response = await put(fake, bad)
    assert response.status_code == 400 and response.json()["code"] == 50035
    errors = response.json()["errors"]
    assert set(errors) == {"0", "1", "2", "4"}
    assert "APPLICATION_COMMANDS_DUPLICATE_NAME" in str(errors["4"])
    assert (await put(fake, list(COMMANDS), app_id=42)).status_code == 403
    assert len(fake.state.app.global_commands) == 3  # the refused PUTs changed nothing


async def test_an_interaction_token_answers_for_15_minutes_without_the_bot_token(
    fake: FakeDiscord,
) -> None:
    app = fake.state.app
    interaction = app.open_interaction({"type": 2, "data": {"name": "pr"}})
    url = f"{fake.api_base}/webhooks/{app.id}/{interaction.token}/messages/@original"
    async with httpx.AsyncClient() as client:
        before = await client.patch(url, json={"content": "too early"})
        interaction.response = {"type": 5, "data": {"flags": 64}}
        answered = await client.patch(url, json={"content": "done"})
        too_long = await client.patch(url, json={"content": "x" * 2001})
        fake.advance(15 * 60 + 1)
        late = await client.patch(url, json={"content": "too late"})
    assert (before.status_code, before.json()["code"]) == (404, 10008)  # nothing to edit yet
    assert answered.status_code == 200 and answered.json()["flags"] == 64
    assert too_long.status_code == 400
    assert (late.status_code, late.json()["code"]) == (404, 10015)
    assert [e["content"] for e in interaction.edits] == ["done"]
