"""What happens on a pull request: comments, reviews, inline threads, check runs and statuses.

Pure operations on ``GitHubState``, shared by the REST routes and by tests that seed.
Sources: https://docs.github.com/rest/pulls/comments#create-a-reply-for-a-review-comment,
https://docs.github.com/rest/checks/runs#list-check-runs-for-a-git-reference,
https://docs.github.com/rest/commits/statuses#get-the-combined-status-for-a-specific-reference.
"""

from __future__ import annotations

from tests.fakes.github_models import (
    App,
    CheckRun,
    CommitStatus,
    IssueComment,
    PullRequest,
    Repo,
    Review,
    ReviewComment,
    User,
)
from tests.fakes.github_rules import GitHubError, locked, not_found, validation_failed
from tests.fakes.github_state import GitHubState

REVIEW_STATES = ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING")
CHECK_STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
CHECK_CONCLUSIONS = (
    "success",
    "failure",
    "neutral",
    "cancelled",
    "skipped",
    "timed_out",
    "action_required",
    "stale",
)
STATUS_STATES = ("error", "failure", "pending", "success")
ACTIONS_APP_ID = 15368


# -- issue comments --------------------------------------------------------------------------------


def create_comment(
    state: GitHubState, repo: Repo, number: int, user: User, body: str, app_id: int | None = None
) -> IssueComment:
    """Add a comment to issue or pull request ``number``."""
    if not state.issue_exists(repo, number):
        raise not_found()
    pr = state.pulls.get((repo.id, number))
    if pr is not None and pr.locked:
        raise locked()
    now = state.clock.now()
    comment = IssueComment(state.next_id(), repo.id, number, user, body, now, now, app_id)
    state.comments[comment.id] = comment
    return comment


def comments_on(state: GitHubState, repo: Repo, number: int) -> list[IssueComment]:
    """Return the comments on ``number``, in ascending id order."""
    if not state.issue_exists(repo, number):
        raise not_found()
    found = (c for c in state.comments.values() if c.repo_id == repo.id)
    return sorted((c for c in found if c.issue_number == number), key=lambda c: c.id)


def comment(state: GitHubState, repo: Repo, comment_id: int) -> IssueComment:
    """Return one issue comment of ``repo`` or raise 404."""
    found = state.comments.get(comment_id)
    if found is None or found.repo_id != repo.id:
        raise not_found()
    return found


def edit_comment(state: GitHubState, repo: Repo, comment_id: int, body: str) -> IssueComment:
    """Replace a comment's body (who may edit is checked by the caller's permissions)."""
    found = comment(state, repo, comment_id)
    found.body = body
    found.updated_at = state.clock.now()
    return found


def delete_comment(state: GitHubState, repo: Repo, comment_id: int) -> None:
    """Delete an issue comment."""
    del state.comments[comment(state, repo, comment_id).id]


# -- reviews and inline comments -------------------------------------------------------------------


def add_review(
    state: GitHubState, pr: PullRequest, user: User, review_state: str, body: str = ""
) -> Review:
    """Record a submitted review (``APPROVED``, ``CHANGES_REQUESTED``, ``COMMENTED``, ...)."""
    if review_state not in REVIEW_STATES:
        raise ValueError(f"unknown review state {review_state!r}")
    review = Review(
        state.next_id(), pr.repo_id, pr.number, user, body, review_state, pr.head_sha,
        state.clock.now(),
    )  # fmt: skip
    state.reviews[review.id] = review
    return review


def reviews_of(state: GitHubState, pr: PullRequest) -> list[Review]:
    """Return a pull request's reviews, oldest first."""
    found = (r for r in state.reviews.values() if (r.repo_id, r.pull_number) == _key(pr))
    return sorted(found, key=lambda r: r.id)


def add_review_comment(
    state: GitHubState,
    pr: PullRequest,
    user: User,
    body: str,
    *,
    path: str = "README.md",
    line: int = 1,
    in_reply_to: ReviewComment | None = None,
    app_id: int | None = None,
) -> ReviewComment:
    """Add an inline comment; like GitHub, each one arrives inside a ``COMMENTED`` review."""
    review = add_review(state, pr, user, "COMMENTED")
    now = state.clock.now()
    comment = ReviewComment(
        id=state.next_id(),
        repo_id=pr.repo_id,
        pull_number=pr.number,
        review_id=review.id,
        user=user,
        body=body,
        path=in_reply_to.path if in_reply_to else path,
        line=in_reply_to.line if in_reply_to else line,
        commit_id=pr.head_sha,
        created_at=now,
        updated_at=now,
        in_reply_to_id=in_reply_to.id if in_reply_to else None,
        app_id=app_id,
    )
    state.review_comments[comment.id] = comment
    return comment


def reply_to_review_comment(
    state: GitHubState, pr: PullRequest, comment_id: int, user: User, body: str, app_id: int | None
) -> ReviewComment:
    """Reply in a review thread: the target must be a top-level comment of this pull request."""
    target = state.review_comments.get(comment_id)
    if target is None or (target.repo_id, target.pull_number) != _key(pr):
        raise not_found()
    if target.in_reply_to_id is not None:
        # "Replies to replies are not supported" (REST docs for this endpoint).
        raise validation_failed("PullRequestReviewComment", "in_reply_to_id", "invalid")
    return add_review_comment(state, pr, user, body, in_reply_to=target, app_id=app_id)


def review_comments_of(state: GitHubState, pr: PullRequest) -> list[ReviewComment]:
    """Return a pull request's inline comments, in ascending id order."""
    found = state.review_comments.values()
    return sorted((c for c in found if (c.repo_id, c.pull_number) == _key(pr)), key=lambda c: c.id)


def review_comment(state: GitHubState, repo: Repo, comment_id: int) -> ReviewComment:
    """Return one inline comment of ``repo`` or raise 404."""
    found = state.review_comments.get(comment_id)
    if found is None or found.repo_id != repo.id:
        raise not_found()
    return found


def _key(pr: PullRequest) -> tuple[int, int]:
    return (pr.repo_id, pr.number)


# -- CI --------------------------------------------------------------------------------------------


def actions_app(state: GitHubState) -> App:
    """Return the GitHub Actions App that owns seeded check runs (created on first use)."""
    app = state.apps.get(ACTIONS_APP_ID)
    if app is None:
        owner = state.add_user("github", type="Organization")
        bot = state.add_user("github-actions[bot]", type="Bot")
        app = App(
            ACTIONS_APP_ID, "github-actions", "GitHub Actions", owner, bot, b"", "Iv1.actions",
            {"checks": "write", "statuses": "write"}, ["check_run"], state.clock.now(),
        )  # fmt: skip
        state.apps[app.id] = app
    return app


def add_check_run(
    state: GitHubState,
    repo: Repo,
    sha: str,
    name: str,
    *,
    status: str = "completed",
    conclusion: str | None = "success",
    app: App | None = None,
    details_url: str | None = None,
) -> CheckRun:
    """Seed a check run on ``sha`` (a new run with the same name supersedes the older one)."""
    if status not in CHECK_STATUSES or (
        conclusion is not None and conclusion not in CHECK_CONCLUSIONS
    ):
        raise ValueError(f"bad check run status {status!r}/{conclusion!r}")
    if (status == "completed") != (conclusion is not None):
        raise GitHubError(422, "Conclusion is required when status is completed")
    now = state.clock.now()
    run = CheckRun(
        state.next_id(), repo.id, sha, name, status, conclusion, now,
        now if status == "completed" else None, (app or actions_app(state)).id,
        state.next_id(), details_url,
    )  # fmt: skip
    repo.commits.add(sha)
    state.check_runs[run.id] = run
    return run


def check_runs_for(
    state: GitHubState, repo: Repo, sha: str, *, name: str | None, status: str | None, latest: bool
) -> list[CheckRun]:
    """Return the check runs on ``sha``, newest first; ``latest`` keeps one per name."""
    runs = [r for r in state.check_runs.values() if r.repo_id == repo.id and r.head_sha == sha]
    runs.sort(key=lambda r: r.id, reverse=True)
    if latest:
        newest: dict[str, CheckRun] = {}
        for run in runs:
            newest.setdefault(run.name, run)
        runs = list(newest.values())
    return [r for r in runs if name in (None, r.name) and status in (None, r.status)]


def add_status(
    state: GitHubState,
    repo: Repo,
    sha: str,
    status_state: str,
    context: str = "default",
    *,
    description: str | None = None,
    target_url: str | None = None,
    creator: str = "ci-bot",
) -> CommitStatus:
    """Seed a commit status."""
    if status_state not in STATUS_STATES:
        raise validation_failed(
            "Status", "state", "custom", f"state is not included in {STATUS_STATES}"
        )
    status = CommitStatus(
        state.next_id(), repo.id, sha, status_state, context, description, target_url,
        state.add_user(creator), state.clock.now(),
    )  # fmt: skip
    repo.commits.add(sha)
    state.statuses[status.id] = status
    return status


def combined_status(state: GitHubState, repo: Repo, sha: str) -> tuple[str, list[CommitStatus]]:
    """Return the combined state and the latest status per context, newest first.

    With no statuses at all the state is ``pending`` (total_count 0): repositories that only
    use Actions check runs always look pending here.
    """
    found = [s for s in state.statuses.values() if s.repo_id == repo.id and s.sha == sha]
    latest: dict[str, CommitStatus] = {}
    for status in sorted(found, key=lambda s: s.id, reverse=True):
        latest.setdefault(status.context, status)
    states = {s.state for s in latest.values()}
    if states & {"error", "failure"}:
        return "failure", list(latest.values())
    if not states or "pending" in states:
        return "pending", list(latest.values())
    return "success", list(latest.values())
