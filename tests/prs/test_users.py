"""The user map in the store: seeded by the settings, changed by links, listed by `prbot users`."""

from __future__ import annotations

import pytest

from bot.cli.users import users_command
from bot.prs.users import UserLink, UserMap
from bot.runtime import RetriableError, Store
from bot.settings import load_settings

ALICE, BOB = 111, 222


async def test_the_settings_seed_and_the_store_wins(real_store: Store) -> None:
    users = UserMap(real_store, {"OctoCat": ALICE, "hubot": BOB})
    assert await users.discord_id("octocat") == ALICE and await users.login_of(BOB) == "hubot"
    assert await users.link("monalisa", ALICE, "github") == "octocat"  # alice had octocat
    assert await users.discord_id("octocat") is None  # hidden: alice is monalisa now
    assert await users.discord_id("MonaLisa") == ALICE and await users.login_of(ALICE) == "monalisa"
    assert await users.unlink(BOB) == "hubot"
    assert await users.discord_id("hubot") is None and await users.login_of(BOB) is None
    assert await users.unlink(BOB) is None
    assert await users.links() == [UserLink("monalisa", ALICE, "github")]


async def test_a_login_taken_by_someone_else_moves_to_the_one_who_proved_it(
    real_store: Store,
) -> None:
    users = UserMap(real_store, {})
    await users.link("octocat", ALICE, "admin:9")
    assert await users.link("octocat", BOB, "github") is None
    assert await users.discord_id("octocat") == BOB and await users.login_of(ALICE) is None
    assert await users.links() == [UserLink("octocat", BOB, "github")]


async def test_a_second_writer_at_the_same_moment_retries(real_store: Store) -> None:
    await real_store.data.lock("users-map", "someone-else", 10_000)
    with pytest.raises(RetriableError, match="being changed"):
        await UserMap(real_store, {}).link("octocat", ALICE, "github")


async def test_prbot_users_lists_the_links_and_where_they_came_from(
    real_store: Store, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(
        {"REDIS_URL": redis_url, "REDIS_KEY_PREFIX": "test", "GITHUB_DISCORD_USERS": f"hubot={BOB}"}
    )
    await UserMap(real_store, {}).link("octocat", ALICE, "admin:9")
    assert await users_command(settings) == 0
    assert capsys.readouterr().out.splitlines() == [
        "GITHUB   DISCORD USER  LINKED",
        f"hubot    {BOB}           settings",
        f"octocat  {ALICE}           by admin 9 (/prbot link)",
    ]
