"""The REST endpoints of the fake GitHub: Apps, the user, comments, pull requests and CI.

Each endpoint takes the ``World`` and a parsed ``Call`` and returns a ``Reply``. Paths are as in
https://docs.github.com/rest; repository routes also answer under ``/repositories/{id}``.
"""

from __future__ import annotations

from tests.fakes import github_json_pulls as pulls_json
from tests.fakes import github_talk as talk
from tests.fakes.github_auth import check_requested_permissions
from tests.fakes.github_calls import Call, Endpoint, Reply, World, choice
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
    iso,
    not_accessible,
    not_found,
    requires_authentication,
)

COMMENTS = ("issues", "pull_requests")
PULLS = ("pull_requests",)

# -- Apps and users --------------------------------------------------------------------------------


def get_app(world: World, call: Call) -> Reply:
    """GET /app: the App whose JWT signed the request."""
    return Reply(200, world.render.app(call.app()))


def get_installation(world: World, call: Call) -> Reply:
    """GET /app/installations/{installation_id}."""
    app = call.app()
    inst = world.state.installations.get(call.number("installation_id"))
    if inst is None or inst.app_id != app.id:
        raise not_found()
    return Reply(200, world.render.installation(inst, app))


def post_access_token(world: World, call: Call) -> Reply:
    """POST /app/installations/{installation_id}/access_tokens: a one-hour installation token."""
    app = call.app()
    inst = world.state.installations.get(call.number("installation_id"))
    if inst is None or inst.app_id != app.id:
        raise not_found()
    permissions = check_requested_permissions(call.body.get("permissions") or {}, inst.permissions)
    repo_ids = _requested_repos(world, call, inst.account.login)
    token = world.state.issue_installation_token(inst, permissions, repo_ids)
    assert token.expires_at is not None
    payload = {
        "token": token.value,
        "expires_at": iso(token.expires_at),
        "permissions": token.permissions,
        "repository_selection": "selected" if repo_ids is not None else "all",
    }
    return Reply(201, payload)


def _requested_repos(world: World, call: Call, owner: str) -> set[int] | None:
    names = call.body.get("repositories")
    ids = call.body.get("repository_ids")
    if not names and not ids:
        return None
    wanted = {world.state.repo_by_name(owner, name).id for name in names or []}
    return wanted | {int(i) for i in ids or []}


def get_repo_installation(world: World, call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/installation: the App's installation that covers the repo."""
    app = call.app()
    repo = call.repo(world)
    for inst in world.state.installations.values():
        covers = inst.repository_ids is None or repo.id in inst.repository_ids
        if inst.app_id == app.id and inst.account.id == repo.owner.id and covers:
            return Reply(200, world.render.installation(inst, app))
    raise not_found()


def get_user(world: World, call: Call) -> Reply:
    """GET /user: the token's user; installation tokens and JWTs are refused (403)."""
    caller = call.caller
    if caller.kind == "anonymous":
        raise requires_authentication()
    if caller.kind in ("installation", "jwt") or caller.user is None:
        raise not_accessible("integration")
    created = world.state.user_created[caller.user.id]
    return Reply(200, world.render.private_user(caller.user, created))


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
    return Reply(201, _comment_json(world, made))


def get_comment(world: World, call: Call) -> Reply:
    """GET /repos/{owner}/{repo}/issues/comments/{comment_id}."""
    repo = call.repo_for(world, COMMENTS, "read")
    return Reply(200, _comment_json(world, talk.comment(world.state, repo, _id(call))))


def patch_comment(world: World, call: Call) -> Reply:
    """PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}."""
    repo = call.repo_for(world, COMMENTS, "write")
    body = check_comment_body(call.body, "IssueComment")
    return Reply(200, _comment_json(world, talk.edit_comment(world.state, repo, _id(call), body)))


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
    ("GET", "/app", get_app),
    ("GET", "/app/installations/{installation_id}", get_installation),
    ("POST", "/app/installations/{installation_id}/access_tokens", post_access_token),
    ("GET", "/user", get_user),
    ("GET", "/repos/{owner}/{repo}/installation", get_repo_installation),
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
