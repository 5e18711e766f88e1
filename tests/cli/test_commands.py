"""`prbot commands sync [--guild ID]` registers prbot's commands at the fake Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.cli.commands import sync_command
from bot.settings import load_settings
from tests.fakes.discord_server import FakeDiscord


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """Yield a started fake Discord."""
    async with FakeDiscord() as started:
        yield started


def settings_for(fake: FakeDiscord, **extra: str) -> dict[str, str]:
    """Return the environment of a prbot logged in to the fake."""
    return {"DISCORD_TOKEN": fake.token, "DISCORD_API_BASE": fake.api_base, **extra}


async def test_guild_commands_are_registered_and_apply_at_once(
    fake: FakeDiscord, capsys: pytest.CaptureFixture[str]
) -> None:
    guild = fake.add_guild()
    assert await sync_command(load_settings(settings_for(fake)), guild.id) == 0
    registered = fake.state.app.guild_commands[guild.id]
    assert [(c["name"], c["type"]) for c in registered] == [
        ("pr", 1),
        ("prbot", 1),
        ("Post to PR", 3),
    ]
    pr, prbot, _ = registered
    assert [o["name"] for o in pr["options"]] == ["status", "link", "unlink"]
    assert [o["name"] for o in prbot["options"]] == ["failed", "replay", "link"]
    assert prbot["default_member_permissions"] == str(1 << 5)  # Manage Server
    assert fake.state.app.global_commands == []
    out = capsys.readouterr().out
    assert f"in server {guild.id} (they apply at once)" in out and "/pr  (slash command" in out
    # Syncing again replaces them (PUT is a bulk overwrite): still three.
    assert await sync_command(load_settings(settings_for(fake)), guild.id) == 0
    assert len(fake.state.app.guild_commands[guild.id]) == 3


async def test_global_commands_with_the_application_id_from_the_settings(
    fake: FakeDiscord, capsys: pytest.CaptureFixture[str]
) -> None:
    env = settings_for(fake, DISCORD_APPLICATION_ID=str(fake.state.application_id))
    assert await sync_command(load_settings(env), None) == 0
    assert len(fake.state.app.global_commands) == 3
    assert "globally" in capsys.readouterr().out


async def test_refusals_are_reported(fake: FakeDiscord, capsys: pytest.CaptureFixture[str]) -> None:
    wrong_app = settings_for(fake, DISCORD_APPLICATION_ID="42")
    assert await sync_command(load_settings(wrong_app), None) == 1
    assert "Missing Access" in capsys.readouterr().err
    assert await sync_command(load_settings(settings_for(fake, DISCORD_TOKEN="wrong")), None) == 1
    assert await sync_command(load_settings({}), None) == 2
    assert fake.state.app.global_commands == []
