"""The GitHub door's calls, with a token and as an App, over real HTTP to the fake GitHub."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.github.api import GitHubAdapter
from bot.github.shapes import GitHubApiError, RepoRef
from bot.runtime import Store
from tests.github.world import Door, door_world


@pytest.fixture
async def door(embedded_store: Store) -> AsyncIterator[Door]:
    """Yield a seeded fake GitHub."""
    async with door_world(embedded_store) as world:
        yield world


@pytest.fixture(params=["token", "app"])
async def gh(request: pytest.FixtureRequest, door: Door) -> AsyncIterator[GitHubAdapter]:
    """Yield a door with the personal token, then one as the App."""
    env = door.token_env() if request.param == "token" else door.app_env()
    async with door.open(env) as adapter:
        yield adapter


def author(gh: GitHubAdapter) -> str:
    """Return who comments through this door: the token's user or the App's bot."""
    return "prbot[bot]" if gh.is_app else "octocat"


async def test_get_pull_and_reviews(door: Door, gh: GitHubAdapter) -> None:
    door.fake.add_review(door.world.pr, "alice", "CHANGES_REQUESTED", "not yet")
    door.fake.add_review(door.world.pr, "bob", "APPROVED")
    pull = await gh.get_pull(door.repo, 1)
    assert (pull.number, pull.title, pull.state, pull.draft) == (1, "Add a widget", "open", False)
    assert pull.head.sha == door.world.pr.head_sha and pull.base.ref == "main"
    reviews = await gh.list_reviews(door.repo, 1)
    assert [(r.user.login if r.user else None, r.state) for r in reviews] == [
        ("alice", "CHANGES_REQUESTED"),
        ("bob", "APPROVED"),
    ]


async def test_comment_create_edit_delete(door: Door, gh: GitHubAdapter) -> None:
    made = await gh.create_comment(door.repo, 1, "from Discord <!-- prbot:discord:42 -->")
    assert made.user is not None and made.user.login == author(gh)
    assert made.html_url.endswith(f"#issuecomment-{made.id}")
    edited = await gh.edit_comment(door.repo, made.id, "edited <!-- prbot:discord:42 -->")
    assert edited.body.startswith("edited")
    assert [c.body for c in door.fake.comments_on(door.world.repo, 1)] == [edited.body]
    assert await gh.delete_comment(door.repo, made.id) is True
    assert door.fake.comments_on(door.world.repo, 1) == []
    assert await gh.delete_comment(door.repo, made.id) is False  # already gone: done
    with pytest.raises(GitHubApiError) as gone:
        await gh.edit_comment(door.repo, made.id, "again")
    assert gone.value.status == 404 and not gone.value.retriable


async def test_find_comment_reads_every_page(door: Door, gh: GitHubAdapter) -> None:
    for n in range(230):
        door.fake.add_comment(door.world.repo, 1, "alice", f"comment {n}")
    door.fake.add_comment(door.world.repo, 1, "alice", "mirrored <!-- prbot:discord:7 -->")
    found = await gh.find_comment(door.repo, 1, "<!-- prbot:discord:7 -->")
    assert found is not None and found.body.startswith("mirrored")
    assert await gh.find_comment(door.repo, 1, "<!-- prbot:discord:8 -->") is None
    pages = door.fake.requests.statuses(
        "GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"
    )
    assert pages == [200] * 6  # 231 comments, 100 a page, read twice
    assert len([c async for c in gh.comments(door.repo, 1)]) == 231


async def test_review_comment_reply_edit_delete(door: Door, gh: GitHubAdapter) -> None:
    top = door.fake.add_review_comment(door.world.pr, "alice", "why this?", path="app.py", line=3)
    reply = await gh.reply_to_review_comment(
        door.repo, 1, top.id, "because <!-- prbot:discord:9 -->"
    )
    assert reply.in_reply_to_id == top.id and reply.path == "app.py"
    assert reply.user is not None and reply.user.login == author(gh)
    found = await gh.find_review_comment(door.repo, 1, "<!-- prbot:discord:9 -->")
    assert found is not None and found.id == reply.id
    edited = await gh.edit_review_comment(door.repo, reply.id, "because, edited")
    assert edited.body == "because, edited"
    assert await gh.delete_review_comment(door.repo, reply.id) is True
    assert await gh.delete_review_comment(door.repo, reply.id) is False
    assert [c.id async for c in gh.review_comments(door.repo, 1)] == [top.id]


async def test_check_runs_and_combined_status(door: Door, gh: GitHubAdapter) -> None:
    sha = door.world.pr.head_sha
    status = await gh.combined_status(door.repo, sha)
    assert (status.state, status.total_count, status.statuses) == ("pending", 0, [])
    door.fake.add_check_run(door.world.repo, sha, "build")
    door.fake.add_check_run(door.world.repo, sha, "test", status="in_progress", conclusion=None)
    door.fake.add_status(door.world.repo, sha, "failure", "ci/legacy", description="red")
    runs = await gh.check_runs(door.repo, sha)
    assert sorted((r.name, r.status, r.conclusion) for r in runs) == [
        ("build", "completed", "success"),
        ("test", "in_progress", None),
    ]
    status = await gh.combined_status(door.repo, sha)
    assert status.state == "failure" and status.statuses[0].context == "ci/legacy"


async def test_repository_from_a_payload() -> None:
    data = {"repository": {"full_name": "acme/widgets"}, "installation": {"id": 7}}
    assert RepoRef.of_payload(data) == RepoRef("acme", "widgets", 7)
    assert RepoRef.of_payload({"repository": {"full_name": "acme/widgets"}}) == RepoRef(
        "acme", "widgets"
    )
    assert RepoRef.of_payload({"sender": {}}) is None
