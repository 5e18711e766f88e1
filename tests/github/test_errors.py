"""githubkit's failures become the runtime's errors, and nothing is retried (or sent twice)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.github.api import GitHubAdapter
from bot.github.auth import Credentials
from bot.github.client import GitHubClient
from bot.github.shapes import GitHubApiError
from bot.runtime import RetriableError, RetryAfterError, Store
from tests.github.world import Door, door_world

COMMENTS = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
PULL = "/repos/{owner}/{repo}/pulls/{pull_number}"


@pytest.fixture
async def door(embedded_store: Store) -> AsyncIterator[Door]:
    """Yield a seeded fake GitHub."""
    async with door_world(embedded_store) as world:
        yield world


@pytest.fixture
async def gh(door: Door) -> AsyncIterator[GitHubAdapter]:
    """Yield a door as the App (installation tokens)."""
    async with door.open(door.app_env()) as adapter:
        yield adapter


async def test_primary_rate_limit_waits_until_githubs_reset(embedded_store: Store) -> None:
    async with door_world(embedded_store, rate_limits={"user": 2}) as door:
        gh = door.open(door.token_env())
        await gh.get_pull(door.repo, 1)
        door.fake.advance(1000)  # prbot's clock follows; the machine's does not
        await gh.get_pull(door.repo, 1)
        with pytest.raises(RetryAfterError) as limited:
            await gh.get_pull(door.repo, 1)
        await gh.close()
    assert limited.value.seconds == pytest.approx(3600 - 1000, abs=2)
    assert "primary rate limit on GET /repos/{owner}/{repo}/pulls/{pull_number}" in str(
        limited.value
    )


async def test_primary_rate_limit_answered_429(embedded_store: Store) -> None:
    async with door_world(embedded_store, primary_status=429) as door:
        door.fake.limiter.exhaust(f"installation:{door.world.installation.id}")
        async with door.open(door.app_env()) as gh:
            with pytest.raises(RetryAfterError) as limited:
                await gh.create_comment(door.repo, 1, "x")
    assert limited.value.seconds == pytest.approx(3600, abs=2)
    assert door.fake.comments_on(door.world.repo, 1) == []


async def test_secondary_rate_limit_waits_retry_after(door: Door, gh: GitHubAdapter) -> None:
    door.fake.faults.fail_next("POST", COMMENTS, "secondary", retry_after_s=7)
    with pytest.raises(RetryAfterError) as limited:
        await gh.create_comment(door.repo, 1, "x")
    assert limited.value.seconds == 7
    assert "secondary rate limit" in str(limited.value)
    assert door.fake.comments_on(door.world.repo, 1) == []


async def test_a_5xx_on_a_post_is_sent_once_and_retriable(door: Door, gh: GitHubAdapter) -> None:
    door.fake.faults.fail_next("POST", COMMENTS, "error", status=502)
    with pytest.raises(RetriableError) as failed:
        await gh.create_comment(door.repo, 1, "once")
    assert str(failed.value) == (
        "GitHub 502 on POST /repos/{owner}/{repo}/issues/{issue_number}/comments"
    )
    assert door.fake.requests.count("POST", COMMENTS) == 1  # githubkit did not re-POST
    assert door.fake.comments_on(door.world.repo, 1) == []


async def test_a_lost_answer_leaves_one_comment_the_caller_can_find(
    door: Door, gh: GitHubAdapter
) -> None:
    door.fake.faults.fail_next("POST", COMMENTS, "lost", status=504)
    marker = "<!-- prbot:discord:55 -->"
    with pytest.raises(RetriableError):
        await gh.create_comment(door.repo, 1, f"hello {marker}")
    assert door.fake.requests.count("POST", COMMENTS) == 1
    found = await gh.find_comment(door.repo, 1, marker)  # what a retrying step does first
    assert found is not None
    assert [c.id for c in door.fake.comments_on(door.world.repo, 1)] == [found.id]


async def test_a_dropped_connection_is_retriable(door: Door, gh: GitHubAdapter) -> None:
    await gh.get_pull(door.repo, 1)  # mint the token first
    door.fake.faults.fail_next("PATCH", "/repos/*/issues/comments/*", "drop")
    made = await gh.create_comment(door.repo, 1, "before")
    with pytest.raises(RetriableError) as dropped:
        await gh.edit_comment(door.repo, made.id, "after")
    assert "GitHub unreachable on PATCH" in str(dropped.value)
    assert door.fake.requests.count("PATCH") == 1


async def test_a_slow_answer_is_a_retriable_timeout(door: Door) -> None:
    door.fake.faults.latency_ms = 500
    client = GitHubClient(
        Credentials(token=door.world.token.value), base_url=door.fake.api_base, timeout_s=0.1
    )
    async with GitHubAdapter(client) as gh:
        with pytest.raises(RetriableError) as slow:
            await gh.get_pull(door.repo, 1)
    assert str(slow.value) == (
        "GitHub did not answer GET /repos/{owner}/{repo}/pulls/{pull_number} in time"
    )


async def test_refusals_are_final_with_githubs_words(door: Door, gh: GitHubAdapter) -> None:
    with pytest.raises(GitHubApiError) as missing:
        await gh.get_pull(door.repo, 999)
    assert (missing.value.status, missing.value.retriable) == (404, False)
    assert str(missing.value).endswith("pulls/{pull_number}: Not Found")
    with pytest.raises(GitHubApiError) as invalid:
        await gh.create_comment(door.repo, 1, "x" * 70_000)
    assert invalid.value.status == 422
    assert "Validation Failed (body is too long (maximum is 65536 characters))" in str(
        invalid.value
    )
    assert door.fake.requests.count("GET", PULL) == 1  # nothing retried


async def test_a_missing_permission_is_named(door: Door) -> None:
    reader = door.fake.add_token("rita", permissions={"pull_requests": "read"})
    async with door.open(door.token_env(GITHUB_TOKEN=reader.value)) as gh:
        with pytest.raises(GitHubApiError) as refused:
            await gh.create_comment(door.repo, 1, "x")
    assert refused.value.status == 403
    assert str(refused.value).endswith(
        "Resource not accessible by personal access token; "
        "needs permission issues=write; pull_requests=write"
    )
