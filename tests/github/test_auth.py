"""Both ways in: a personal token, and a GitHub App whose installation tokens live in the store."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from bot.github.auth import TOKENS
from bot.github.shapes import GitHubApiError, RepoRef
from bot.runtime import NonRetriableError, Store
from tests.github.world import Door, door_world

MINT = "/app/installations/{installation_id}/access_tokens"
PULL = "/repos/{owner}/{repo}/pulls/{pull_number}"


@pytest.fixture
async def door(real_store: Store) -> AsyncIterator[Door]:
    """Yield a seeded fake GitHub and a store on the real Redis (shared like processes share it)."""
    async with door_world(real_store) as world:
        yield world


def mints(door: Door) -> int:
    """Return how many installation tokens were minted."""
    return door.fake.requests.count("POST", MINT, 201)


async def test_a_token_is_sent_as_is_and_a_wrong_one_fails_clearly(door: Door) -> None:
    async with door.open(door.token_env()) as gh:
        assert (await gh.get_pull(door.repo, 1)).number == 1
    assert door.fake.requests.count("GET", PULL, 200, auth="token") == 1
    async with door.open(door.token_env(GITHUB_TOKEN="ghp_revoked0123456789")) as gh:
        with pytest.raises(GitHubApiError) as refused:
            await gh.get_pull(door.repo, 1)
    assert refused.value.status == 401 and not refused.value.retriable
    assert str(refused.value) == (
        "GitHub 401 on GET /repos/{owner}/{repo}/pulls/{pull_number}: Bad credentials"
    )
    assert door.fake.requests.count("GET", PULL, 401) == 1  # a token is not refreshed


async def test_installation_token_is_shared_through_the_store(
    door: Door, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with door.open(door.app_env()) as first, door.open(door.app_env()) as second:
        await first.get_pull(door.repo, 1)
        await second.get_pull(door.repo, 1)  # another "process": reads the store
        await first.create_comment(door.repo, 1, "hi")
    assert mints(door) == 1
    assert door.fake.requests.count("GET", PULL, 200, auth="installation") == 2
    record = await door.store.data.get(TOKENS, str(door.world.installation.id))
    minted = next(t for t in door.fake.state.tokens.values() if t.kind == "installation")
    assert record["token"] == minted.value
    assert minted.expires_at is not None
    # Kept until five minutes before GitHub's expiry, and Redis forgets it then.
    assert int(record["use_until_ms"]) == pytest.approx((minted.expires_at - 300) * 1000, abs=1000)
    ttl_ms = await door.store.redis.pttl(door.store.keys.data(TOKENS, str(minted.installation_id)))
    assert 55 * 60_000 - 5_000 < ttl_ms <= 55 * 60_000
    assert minted.value not in caplog.text and door.world.private_key[40:80] not in caplog.text


async def test_minting_happens_once_when_many_calls_start_together(door: Door) -> None:
    doors = [door.open(door.app_env()) for _ in range(3)]
    try:
        await asyncio.gather(*(gh.get_pull(door.repo, 1) for gh in doors for _ in range(3)))
    finally:
        for gh in doors:
            await gh.close()
    assert mints(door) == 1
    assert door.fake.requests.count("GET", PULL, 200) == 9


async def test_a_token_near_its_expiry_is_replaced_before_github_refuses_it(door: Door) -> None:
    async with door.open(door.app_env()) as gh:
        await gh.get_pull(door.repo, 1)
        door.fake.advance(54 * 60)
        await gh.get_pull(door.repo, 1)
        assert mints(door) == 1
        door.fake.advance(2 * 60)  # 56 minutes: within five minutes of the hour
        await gh.get_pull(door.repo, 1)
    assert mints(door) == 2
    assert door.fake.requests.count(status=401) == 0


async def test_a_token_github_no_longer_takes_is_refreshed_after_one_401(door: Door) -> None:
    async with door.open(door.app_env()) as gh:
        await gh.get_pull(door.repo, 1)
        minted = next(t for t in door.fake.state.tokens.values() if t.kind == "installation")
        minted.expires_at = door.fake.now()  # expired on GitHub's clock, fresh on prbot's
        pull = await gh.get_pull(door.repo, 1)
        assert pull.number == 1
        await gh.get_pull(door.repo, 1)  # the new token, from memory and the store
    assert door.fake.requests.statuses("GET", PULL) == [200, 401, 200, 200]
    assert mints(door) == 2


async def test_the_installation_is_looked_up_when_an_event_does_not_name_it(door: Door) -> None:
    unnamed = RepoRef("acme", "widgets")  # e.g. a Discord message about the PR
    async with door.open(door.app_env()) as gh:
        await gh.get_pull(unnamed, 1)
        await gh.create_comment(unnamed, 1, "from Discord")
    async with door.open(door.app_env()) as gh:  # another process: the store remembers
        await gh.get_pull(unnamed, 1)
    assert door.fake.requests.count("GET", "/repos/{owner}/{repo}/installation", 200) == 1
    assert [c.user.login for c in door.fake.comments_on(door.world.repo, 1)] == ["prbot[bot]"]


async def test_app_only_routes_need_the_app(door: Door) -> None:
    async with door.open(door.token_env()) as gh:
        with pytest.raises(NonRetriableError) as refused:
            await gh.account.installation(door.repo)
    assert "needs a GitHub App" in str(refused.value)
    assert door.fake.requests.count() == 0
