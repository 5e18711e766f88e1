"""Comments, pull requests, reviews and CI on the fake GitHub, driven by real githubkit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from githubkit.exception import RequestFailed

from tests.fakes.github_rules import COMMENT_MAX
from tests.fakes.github_server import FakeGitHub
from tests.fakes.github_world import NAME, OWNER, GitHubWorld, rows, seed


@pytest.fixture
async def world() -> AsyncIterator[GitHubWorld]:
    """Yield the standard seeded world on a started fake."""
    async with FakeGitHub() as fake:
        yield seed(fake)


async def test_comment_create_get_edit_delete(world: GitHubWorld) -> None:
    github = world.as_installation()
    issues = github.rest.issues
    made = (await issues.async_create_comment(OWNER, NAME, 1, body="first")).parsed_data
    assert made.body == "first"
    assert made.issue_url.endswith(f"/repos/{OWNER}/{NAME}/issues/1")
    edited = await issues.async_update_comment(OWNER, NAME, made.id, body="second")
    assert edited.parsed_data.body == "second"
    assert (await issues.async_get_comment(OWNER, NAME, made.id)).parsed_data.body == "second"
    assert [c.body for c in world.fake.comments_on(world.repo, 1)] == ["second"]
    assert (await issues.async_delete_comment(OWNER, NAME, made.id)).status_code == 204
    with pytest.raises(RequestFailed) as gone:
        await issues.async_get_comment(OWNER, NAME, made.id)
    assert gone.value.response.status_code == 404
    assert world.fake.comments_on(world.repo, 1) == []


async def test_comments_paginate_with_link_headers(world: GitHubWorld) -> None:
    for n in range(5):
        world.fake.add_comment(world.repo, 1, "alice", f"comment {n}")
    github = world.as_user()
    first = await github.rest.issues.async_list_comments(OWNER, NAME, 1, per_page=2)
    assert [c.body for c in rows(first.parsed_data)] == ["comment 0", "comment 1"]
    link = first.headers["link"]
    # GitHub's Link URLs name the repository by id, not by owner/name.
    assert f'/repositories/{world.repo.id}/issues/1/comments?per_page=2&page=2>; rel="next"' in link
    assert 'page=3>; rel="last"' in link
    last = await github.rest.issues.async_list_comments(OWNER, NAME, 1, per_page=2, page=3)
    assert 'rel="next"' not in last.headers["link"]
    assert 'rel="first"' in last.headers["link"]
    every: AsyncIterator[Any] = github.rest.paginate(
        github.rest.issues.async_list_comments, owner=OWNER, repo=NAME, issue_number=1, per_page=2
    )
    assert [c.body async for c in every] == [f"comment {n}" for n in range(5)]
    assert (
        world.fake.requests.count("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
        == 5
    )


async def test_comment_length_limit_is_65536(world: GitHubWorld) -> None:
    github = world.as_user()
    issues = github.rest.issues
    await issues.async_create_comment(OWNER, NAME, 1, body="x" * COMMENT_MAX)
    with pytest.raises(RequestFailed) as refused:
        await issues.async_create_comment(OWNER, NAME, 1, body="x" * (COMMENT_MAX + 1))
    assert refused.value.response.status_code == 422
    error = refused.value.response.json()
    assert error["message"] == "Validation Failed"
    assert error["errors"][0]["field"] == "body"
    assert len(world.fake.comments_on(world.repo, 1)) == 1


async def test_comments_on_unknown_or_locked_pulls(world: GitHubWorld) -> None:
    github = world.as_user()
    with pytest.raises(RequestFailed) as refused:
        await github.rest.issues.async_create_comment(OWNER, NAME, 99, body="x")
    assert refused.value.response.status_code == 404
    world.fake.add_pull(world.repo).locked = True
    with pytest.raises(RequestFailed) as refused:
        await github.rest.issues.async_create_comment(OWNER, NAME, 2, body="x")
    assert refused.value.response.status_code == 403


async def test_pull_request_fields_and_listing(world: GitHubWorld) -> None:
    fake = world.fake
    fake.add_pull(world.repo, title="Draft", draft=True)
    fake.add_pull(world.repo, title="Merged", merged=True)
    github = world.as_user()
    pr = (await github.rest.pulls.async_get(OWNER, NAME, 1)).parsed_data
    assert (pr.number, pr.state, pr.draft, pr.merged) == (1, "open", False, False)
    assert pr.head.sha == world.pr.head_sha
    assert [u.login for u in pr.requested_reviewers or []] == ["alice"]
    assert [label.name for label in pr.labels] == ["ui"]
    pulls = github.rest.pulls
    open_ = rows((await pulls.async_list(OWNER, NAME, state="open")).parsed_data)
    assert [p.number for p in open_] == [2, 1]
    assert [
        p.number for p in rows((await pulls.async_list(OWNER, NAME, state="closed")).parsed_data)
    ] == [3]
    assert len(rows((await pulls.async_list(OWNER, NAME, state="all")).parsed_data)) == 3
    merged = (await pulls.async_get(OWNER, NAME, 3)).parsed_data
    assert merged.merged and merged.state == "closed" and merged.merged_at is not None


async def test_review_replies_and_reviews(world: GitHubWorld) -> None:
    fake = world.fake
    fake.add_review(world.pr, "alice", "APPROVED", "ship it")
    thread = fake.add_review_comment(world.pr, "bob", "rename this", path="src/a.py", line=3)
    github = world.as_installation()
    pulls = github.rest.pulls
    reply = await pulls.async_create_reply_for_review_comment(
        OWNER, NAME, 1, thread.id, body="done"
    )
    made = reply.parsed_data
    assert reply.status_code == 201
    assert (made.in_reply_to_id, made.path, made.line) == (thread.id, "src/a.py", 3)
    assert made.user is not None and made.user.login == "prbot[bot]"
    comments = rows((await pulls.async_list_review_comments(OWNER, NAME, 1)).parsed_data)
    assert [c.body for c in comments] == ["rename this", "done"]
    # Each inline comment, a reply too, arrives inside its own COMMENTED review.
    reviews = rows((await pulls.async_list_reviews(OWNER, NAME, 1)).parsed_data)
    assert [(r.user.login if r.user else None, r.state) for r in reviews] == [
        ("alice", "APPROVED"),
        ("bob", "COMMENTED"),
        ("prbot[bot]", "COMMENTED"),
    ]
    with pytest.raises(RequestFailed) as refused:
        await pulls.async_create_reply_for_review_comment(OWNER, NAME, 1, made.id, body="re: re")
    assert refused.value.response.status_code == 422


async def test_review_comment_edit_and_delete(world: GitHubWorld) -> None:
    thread = world.fake.add_review_comment(world.pr, "bob", "typo")
    github = world.as_user()
    pulls = github.rest.pulls
    edited = await pulls.async_update_review_comment(OWNER, NAME, thread.id, body="fixed typo")
    assert edited.parsed_data.body == "fixed typo"
    assert (await pulls.async_get_review_comment(OWNER, NAME, thread.id)).parsed_data.body == (
        "fixed typo"
    )
    await pulls.async_delete_review_comment(OWNER, NAME, thread.id)
    with pytest.raises(RequestFailed) as gone:
        await pulls.async_create_reply_for_review_comment(OWNER, NAME, 1, thread.id, body="x")
    assert gone.value.response.status_code == 404


async def test_check_runs_latest_per_name(world: GitHubWorld) -> None:
    fake, sha = world.fake, world.pr.head_sha
    fake.add_check_run(world.repo, sha, "build", conclusion="failure")
    fake.add_check_run(world.repo, sha, "build", conclusion="success")
    fake.add_check_run(world.repo, sha, "lint", status="in_progress", conclusion=None)
    github = world.as_installation()
    checks = github.rest.checks
    runs = (await checks.async_list_for_ref(OWNER, NAME, sha)).parsed_data
    assert runs.total_count == 2
    assert {(r.name, r.status, r.conclusion) for r in runs.check_runs} == {
        ("build", "completed", "success"),
        ("lint", "in_progress", None),
    }
    assert all(r.html_url and r.pull_requests[0].number == 1 for r in runs.check_runs)
    every = (await checks.async_list_for_ref(OWNER, NAME, sha, filter_="all")).parsed_data
    assert every.total_count == 3
    # A branch name is a ref too; a name filter narrows the list.
    by_branch = await checks.async_list_for_ref(OWNER, NAME, world.pr.head_ref, check_name="lint")
    assert [r.name for r in by_branch.parsed_data.check_runs] == ["lint"]
    with pytest.raises(RequestFailed) as refused:
        await checks.async_list_for_ref(OWNER, NAME, "no-such-branch")
    assert refused.value.response.status_code == 422


async def test_combined_status_is_pending_without_statuses(world: GitHubWorld) -> None:
    fake, sha = world.fake, world.pr.head_sha
    fake.add_check_run(world.repo, sha, "build")  # Check runs do not count here.
    github = world.as_installation()

    async def combined() -> tuple[str, int]:
        status = await github.rest.repos.async_get_combined_status_for_ref(OWNER, NAME, sha)
        return status.parsed_data.state, status.parsed_data.total_count

    assert await combined() == ("pending", 0)
    fake.add_status(world.repo, sha, "pending", "ci/a")
    fake.add_status(world.repo, sha, "success", "ci/b")
    assert await combined() == ("pending", 2)
    fake.add_status(world.repo, sha, "success", "ci/a")  # The newest per context wins.
    assert await combined() == ("success", 2)
    fake.add_status(world.repo, sha, "error", "ci/c")
    assert await combined() == ("failure", 3)
