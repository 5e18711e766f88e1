"""The REST endpoints of the fake GitHub for pull requests: comments, reviews and CI.

Each endpoint takes the ``World`` and a parsed ``Call`` and returns a ``Reply``. Paths are as in
https://docs.github.com/rest; repository routes also answer under ``/repositories/{id}``.
"""

from __future__ import annotations

from tests.fakes import github_json_pulls as pulls_json
from tests.fakes import github_talk as talk
from tests.fakes.github_calls import Call, Endpoint, Reply, World, choice
from tests.fakes.github_echo import echo_comment
from tests.fakes.github_models import (
    IssueComment,
    Level,
    PullRequest,
    Repo,
    ReviewComment,
    User,
)
from tests.fakes.github_rules import (
    check_comment_body,
)

COMMENTS = ("issues", "pull_requests")
PULLS = ("pull_requests",)

# -- issue comments --------------------------------------------------------------------------------


def list_comments(world: World, call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/issues/{issue_number}/comments (page/per_page, Link)."""
    repo = call.repo_for(world, COMMENTS, "read")
    number = call.number("issue_number")
    found = talk.comments_on(world.state, repo, number)
    page, headers = call.paged(found, call.repo_path(repo, f"/issues/{number}/comments"))
    return Reply(200, [_comment_json(world, c) for c in page], headers)


def post_comment(world: World, call: Call) -> Reply:
    """POST /repos/{owner}/{repo}/issues/{issue_number}/comments."""
    repo = call.repo_for(world, COMMENTS, "write")
    body = check_comment_body(call.body, "IssueComment")
    user, app_id = _author(call)
    made = talk.create_comment(world.state, repo, call.number("issue_number"), user, body, app_id)
    echo_comment(world, repo, made, "created")
    return Reply(201, _comment_json(world, made))


def get_comment(world: World, call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/issues/comments/{comment_id}."""
    repo = call.repo_for(world, COMMENTS, "read")
    return Reply(200, _comment_json(world, talk.comment(world.state, repo, _id(call))))


def patch_comment(world: World, call: Call) -> Reply:
    """PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}."""
    repo = call.repo_for(world, COMMENTS, "write")
    body = check_comment_body(call.body, "IssueComment")
    edited = talk.edit_comment(world.state, repo, _id(call), body)
    echo_comment(world, repo, edited, "edited")
    return Reply(200, _comment_json(world, edited))


def delete_comment(world: World, call: Call) -> Reply:
    """DELETE /repos/{owner}/{repo}/issues/comments/{comment_id} (204)."""
    repo = call.repo_for(world, COMMENTS, "write")
    talk.delete_comment(world.state, repo, _id(call))
    return Reply(204)


def _comment_json(world: World, comment: IssueComment) -> object:
    app = world.state.apps.get(comment.app_id) if comment.app_id else None
    repo = world.state.repos[comment.repo_id]
    return pulls_json.issue_comment(world.render, repo, comment, app)


def _author(call: Call) -> tuple[User, int | None]:
    """Return who a write is by: the token's user, or ``<slug>[bot]`` for an installation."""
    caller = call.caller
    assert caller.user is not None
    return caller.user, caller.app.id if caller.kind == "installation" and caller.app else None


def _id(call: Call) -> int:
    return call.number("comment_id")


# -- pull requests ---------------------------------------------------------------------------------


def list_pulls(world: World, call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/pulls?state=open|closed|all (newest first)."""
    repo = call.repo_for(world, PULLS, "read")
    state = choice(call.query, "state", ("open", "closed", "all"), "open")
    found = [
        pr
        for (repo_id, _), pr in world.state.pulls.items()
        if repo_id == repo.id and state in ("all", pr.state)
    ]
    found.sort(key=lambda pr: pr.number, reverse=call.query.get("direction", "desc") == "desc")
    page, headers = call.paged(found, call.repo_path(repo, "/pulls"))
    return Reply(
        200, [pulls_json.pull_request(world.render, repo, pr, full=False) for pr in page], headers
    )


def get_pull(world: World, call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/pulls/{pull_number}."""
    repo = call.repo_for(world, PULLS, "read")
    pr = world.state.pull(repo, call.number("pull_number"))
    return Reply(200, pulls_json.pull_request(world.render, repo, pr, full=True))


def list_reviews(world: World, call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews (oldest first)."""
    repo, pr = _pull(world, call, "read")
    found = talk.reviews_of(world.state, pr)
    page, headers = call.paged(found, call.repo_path(repo, f"/pulls/{pr.number}/reviews"))
    return Reply(200, [pulls_json.review(world.render, repo, r) for r in page], headers)


def list_review_comments(world: World, call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/pulls/{pull_number}/comments."""
    repo, pr = _pull(world, call, "read")
    found = talk.review_comments_of(world.state, pr)
    page, headers = call.paged(found, call.repo_path(repo, f"/pulls/{pr.number}/comments"))
    return Reply(200, [_review_comment_json(world, c) for c in page], headers)


def post_reply(world: World, call: Call) -> Reply:
    """POST /repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies."""
    _, pr = _pull(world, call, "write")
    body = check_comment_body(call.body, "PullRequestReviewComment")
    user, app_id = _author(call)
    reply = talk.reply_to_review_comment(world.state, pr, _id(call), user, body, app_id)
    return Reply(201, _review_comment_json(world, reply))


def get_review_comment(world: World, call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/pulls/comments/{comment_id}."""
    repo = call.repo_for(world, PULLS, "read")
    return Reply(
        200, _review_comment_json(world, talk.review_comment(world.state, repo, _id(call)))
    )


def patch_review_comment(world: World, call: Call) -> Reply:
    """PATCH /repos/{owner}/{repo}/pulls/comments/{comment_id}."""
    repo = call.repo_for(world, PULLS, "write")
    body = check_comment_body(call.body, "PullRequestReviewComment")
    found = talk.review_comment(world.state, repo, _id(call))
    found.body, found.updated_at = body, world.state.clock.now()
    return Reply(200, _review_comment_json(world, found))


def delete_review_comment(world: World, call: Call) -> Reply:
    """DELETE /repos/{owner}/{repo}/pulls/comments/{comment_id} (204)."""
    repo = call.repo_for(world, PULLS, "write")
    del world.state.review_comments[talk.review_comment(world.state, repo, _id(call)).id]
    return Reply(204)


def _pull(world: World, call: Call, level: Level) -> tuple[Repo, PullRequest]:
    repo = call.repo_for(world, PULLS, level)
    return repo, world.state.pull(repo, call.number("pull_number"))


def _review_comment_json(world: World, comment: ReviewComment) -> object:
    app = world.state.apps.get(comment.app_id) if comment.app_id else None
    repo = world.state.repos[comment.repo_id]
    return pulls_json.review_comment(world.render, repo, comment, app)


# -- CI --------------------------------------------------------------------------------------------


def list_check_runs(world: World, call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/commits/{ref}/check-runs (filter=latest by default)."""
    repo = call.repo_for(world, ("checks",), "read")
    sha = world.state.resolve_ref(repo, call.params["ref"])
    latest = choice(call.query, "filter", ("latest", "all"), "latest") == "latest"
    runs = talk.check_runs_for(
        world.state, repo, sha, name=call.query.get("check_name"),
        status=call.query.get("status"), latest=latest,
    )  # fmt: skip
    page, headers = call.paged(
        runs, call.repo_path(repo, f"/commits/{call.params['ref']}/check-runs")
    )
    prs = world.state.pulls_for_sha(repo, sha)
    items = [
        pulls_json.check_run(world.render, repo, r, world.state.apps[r.app_id], prs) for r in page
    ]
    return Reply(200, {"total_count": len(runs), "check_runs": items}, headers)


def get_combined_status(world: World, call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/commits/{ref}/status: ``pending`` with no statuses at all."""
    repo = call.repo_for(world, ("statuses",), "read")
    sha = world.state.resolve_ref(repo, call.params["ref"])
    state, statuses = talk.combined_status(world.state, repo, sha)
    base = world.render.repo_url(repo)
    payload = {
        "state": state,
        "statuses": [pulls_json.status(world.render, repo, s) for s in statuses],
        "sha": sha,
        "total_count": len(statuses),
        "repository": world.render.minimal_repo(repo),
        "commit_url": f"{base}/commits/{sha}",
        "url": f"{base}/commits/{sha}/status",
    }
    return Reply(200, payload)


ROUTES: tuple[tuple[str, str, Endpoint], ...] = (
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", list_comments),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", post_comment),
    ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}", get_comment),
    ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", patch_comment),
    ("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}", delete_comment),
    ("GET", "/repos/{owner}/{repo}/pulls", list_pulls),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}", get_pull),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews", list_reviews),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/comments", list_review_comments),
    ("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies", post_reply),
    ("GET", "/repos/{owner}/{repo}/pulls/comments/{comment_id}", get_review_comment),
    ("PATCH", "/repos/{owner}/{repo}/pulls/comments/{comment_id}", patch_review_comment),
    ("DELETE", "/repos/{owner}/{repo}/pulls/comments/{comment_id}", delete_review_comment),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs", list_check_runs),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/status", get_combined_status),
)
