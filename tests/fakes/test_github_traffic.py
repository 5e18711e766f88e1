"""Rate limits and faults of the fake GitHub as githubkit sees them (its exception types)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from githubkit import TokenAuthStrategy
from githubkit.exception import (
    PrimaryRateLimitExceeded,
    RequestError,
    RequestFailed,
    SecondaryRateLimitExceeded,
)

from tests.fakes.github_server import FakeGitHub
from tests.fakes.github_traffic import FaultPlan
from tests.fakes.github_world import NAME, OWNER, GitHubWorld, client, seed

COMMENTS = "/repos/{owner}/{repo}/issues/{issue_number}/comments"
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def world() -> AsyncIterator[GitHubWorld]:
    """Yield the standard seeded world on a started fake."""
    async with FakeGitHub() as fake:
        yield seed(fake)


async def test_every_answer_has_rate_limit_headers(world: GitHubWorld) -> None:
    github = world.as_user()
    first = await github.rest.pulls.async_get(OWNER, NAME, 1)
    assert first.headers["x-ratelimit-limit"] == "5000"
    assert (first.headers["x-ratelimit-used"], first.headers["x-ratelimit-remaining"]) == (
        "1",
        "4999",
    )
    assert first.headers["x-ratelimit-resource"] == "core"
    assert first.headers["x-github-api-version-selected"] == "2026-03-10"  # What githubkit asks.
    assert int(first.headers["x-ratelimit-reset"]) == pytest.approx(world.fake.now() + 3600, abs=2)
    with pytest.raises(RequestFailed) as missing:  # An error answer counts too.
        await github.rest.pulls.async_get(OWNER, NAME, 404)
    assert missing.value.response.headers["x-ratelimit-used"] == "2"
    quota = await github.rest.rate_limit.async_get()
    assert quota.parsed_data.resources.core.remaining == 4998  # Asking does not count.


async def test_primary_limit_is_githubkits_primary_exception() -> None:
    async with FakeGitHub(rate_limits={"user": 2}) as fake:
        world = seed(fake)
        github = world.as_user()
        for _ in range(2):
            await github.rest.pulls.async_get(OWNER, NAME, 1)
        with pytest.raises(PrimaryRateLimitExceeded) as limited:
            await github.rest.pulls.async_get(OWNER, NAME, 1)
        response = limited.value.response
        assert response.status_code == 403
        assert response.headers["x-ratelimit-remaining"] == "0"
        user_id = fake.state.users["octocat"].id
        assert response.json()["message"].startswith(
            f"API rate limit exceeded for user ID {user_id}."
        )
        assert timedelta(minutes=59) < limited.value.retry_after <= timedelta(hours=1, seconds=1)
        # The installation has its own quota; the user's comes back after the hour.
        installation = world.as_installation()
        assert (await installation.rest.pulls.async_get(OWNER, NAME, 1)).status_code == 200
        fake.advance(3600)
        assert (await github.rest.pulls.async_get(OWNER, NAME, 1)).status_code == 200


async def test_primary_limit_may_answer_429() -> None:
    async with FakeGitHub(primary_status=429) as fake:
        world = seed(fake)
        fake.limiter.exhaust(f"installation:{world.installation.id}")
        github = world.as_installation()
        with pytest.raises(PrimaryRateLimitExceeded) as limited:
            await github.rest.issues.async_create_comment(OWNER, NAME, 1, body="x")
        assert limited.value.response.status_code == 429
        assert "installation ID" in limited.value.response.json()["message"]
        assert fake.comments_on(world.repo, 1) == []


async def test_secondary_limit_on_content_creation() -> None:
    async with FakeGitHub(writes_per_minute=2) as fake:
        world = seed(fake)
        github = world.as_user()
        issues = github.rest.issues
        for n in range(2):
            await issues.async_create_comment(OWNER, NAME, 1, body=f"{n}")
        with pytest.raises(SecondaryRateLimitExceeded) as limited:
            await issues.async_create_comment(OWNER, NAME, 1, body="too fast")
        response = limited.value.response
        assert response.status_code == 403
        assert int(response.headers["retry-after"]) == limited.value.retry_after.seconds > 0
        assert "secondary rate limit" in response.json()["message"]
        assert response.headers["x-ratelimit-remaining"] != "0"
        assert len(fake.comments_on(world.repo, 1)) == 2
        # Reads are not content creation; after the minute, writes work again.
        assert (await issues.async_list_comments(OWNER, NAME, 1)).status_code == 200
        fake.advance(61)
        await issues.async_create_comment(OWNER, NAME, 1, body="later")
        assert len(fake.comments_on(world.repo, 1)) == 3


async def test_injected_rate_limits(world: GitHubWorld) -> None:
    world.fake.faults.fail_next("POST", COMMENTS, "secondary", retry_after_s=7)
    world.fake.faults.fail_next("GET", "/repos/*/pulls/1", "primary")
    github = world.as_installation()
    with pytest.raises(SecondaryRateLimitExceeded) as secondary:
        await github.rest.issues.async_create_comment(OWNER, NAME, 1, body="x")
    assert secondary.value.retry_after == timedelta(seconds=7)
    with pytest.raises(PrimaryRateLimitExceeded):
        await github.rest.pulls.async_get(OWNER, NAME, 1)
    assert world.fake.comments_on(world.repo, 1) == []


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_is_request_failed_and_nothing_happens(world: GitHubWorld, status: int) -> None:
    world.fake.faults.fail_next("POST", COMMENTS, status=status)
    github = world.as_user()
    with pytest.raises(RequestFailed) as failed:
        await github.rest.issues.async_create_comment(OWNER, NAME, 1, body="x")
    assert failed.value.response.status_code == status
    assert world.fake.comments_on(world.repo, 1) == []
    assert world.fake.requests.statuses("POST", COMMENTS) == [status]  # auto_retry is off.


async def test_lost_answer_still_creates_the_comment(world: GitHubWorld) -> None:
    world.fake.faults.fail_next("POST", COMMENTS, "lost")
    github = world.as_installation()
    with pytest.raises(RequestFailed) as failed:
        await github.rest.issues.async_create_comment(OWNER, NAME, 1, body="once")
    assert failed.value.response.status_code == 502
    assert [c.body for c in world.fake.comments_on(world.repo, 1)] == ["once"]
    [record] = [
        r for r in world.fake.requests.records if r.method == "POST" and r.route == COMMENTS
    ]
    assert (record.fault, record.auth, record.login) == ("lost", "installation", "prbot[bot]")


async def test_dropped_connection_still_creates_the_comment(world: GitHubWorld) -> None:
    world.fake.faults.fail_next("POST", COMMENTS, "drop")
    github = world.as_user()
    with pytest.raises(RequestError) as dropped:
        await github.rest.issues.async_create_comment(OWNER, NAME, 1, body="once")
    assert not isinstance(dropped.value, RequestFailed)
    assert [c.body for c in world.fake.comments_on(world.repo, 1)] == ["once"]
    assert world.fake.requests.statuses("POST", COMMENTS) == [0]


def test_random_faults_follow_the_seed() -> None:
    def draws(seed: int) -> list[str | None]:
        plan = FaultPlan(p5xx=0.2, p_lost=0.2, p_drop=0.1, seed=seed)
        return [f.kind if (f := plan.draw("POST", "/x", "/x")) else None for _ in range(50)]

    assert draws(3) == draws(3)
    assert draws(3) != draws(4)
    assert {"error", "lost", "drop", None} <= set(draws(3))


async def test_control_endpoints(world: GitHubWorld) -> None:
    github = client(world.fake, TokenAuthStrategy(world.token.value))
    base = world.fake.base_url
    faults = await github.arequest("POST", f"{base}/_fake/faults", json={"p5xx": 0.5})
    assert faults.json()["p5xx"] == 0.5
    before = world.fake.now()
    clock = await github.arequest("POST", f"{base}/_fake/clock", json={"advance_s": 60})
    assert clock.json()["now"] >= before + 60
    state = (await github.arequest("GET", f"{base}/_fake/state")).json()
    assert state["repos"] == [f"{OWNER}/{NAME}"]
    assert state["requests"]["total"] == 0  # Control calls are not API calls.


@pytest.mark.slow
async def test_runs_as_its_own_process() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.github_server", "--port", "0", "--p5xx", "0.1",
        cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        ready = json.loads(await asyncio.wait_for(process.stdout.readline(), timeout=20))
        fake_url = ready["api_base"]
        from githubkit import AppAuthStrategy, GitHub
        from githubkit.cache import MemCacheStrategy

        strategy = AppAuthStrategy(ready["app_id"], ready["private_key_pem"])
        github = GitHub(
            strategy.as_installation(ready["installation_id"]),
            base_url=fake_url,
            auto_retry=False,
            http_cache=False,
            cache_strategy=MemCacheStrategy(),
        )
        owner, name = ready["repo"].split("/")
        state = (await github.arequest("GET", ready["state_url"])).json()
        assert state["faults"]["p5xx"] == 0.1
        await github.arequest(
            "POST", ready["state_url"].replace("state", "faults"), json={"p5xx": 0}
        )
        pr = await github.rest.pulls.async_get(owner, name, ready["pull_number"])
        assert pr.parsed_data.head.sha == ready["head_sha"]
    finally:
        process.terminate()
        await process.wait()
