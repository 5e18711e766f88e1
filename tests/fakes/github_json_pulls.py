"""GitHub's JSON for pull requests and the talk and CI around them (see ``github_json``)."""

from __future__ import annotations

from tests.fakes.github_json import Render, node_id
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
from tests.fakes.github_rules import JSONObject, iso


def issue_comment(r: Render, repo: Repo, comment: IssueComment, app: App | None) -> JSONObject:
    """Return an ``issue-comment``."""
    base = r.repo_url(repo)
    return {
        "id": comment.id,
        "node_id": node_id("IssueComment", comment.id),
        "url": f"{base}/issues/comments/{comment.id}",
        "html_url": f"{r.web}/{repo.full_name}/pull/{comment.issue_number}"
        f"#issuecomment-{comment.id}",
        "body": comment.body,
        "user": r.user(comment.user),
        "created_at": iso(comment.created_at),
        "updated_at": iso(comment.updated_at),
        "issue_url": f"{base}/issues/{comment.issue_number}",
        "author_association": "NONE" if app else "OWNER",
        "performed_via_github_app": r.app(app) if app else None,
    }


def review(r: Render, repo: Repo, item: Review) -> JSONObject:
    """Return a ``pull-request-review``."""
    pr_url = f"{r.repo_url(repo)}/pulls/{item.pull_number}"
    html = f"{r.web}/{repo.full_name}/pull/{item.pull_number}"
    return {
        "id": item.id,
        "node_id": node_id("PullRequestReview", item.id),
        "user": r.user(item.user),
        "body": item.body,
        "state": item.state,
        "html_url": f"{html}#pullrequestreview-{item.id}",
        "pull_request_url": pr_url,
        "_links": {"html": {"href": html}, "pull_request": {"href": pr_url}},
        "submitted_at": iso(item.submitted_at),
        "commit_id": item.commit_id,
        "author_association": "COLLABORATOR",
    }


def review_comment(r: Render, repo: Repo, comment: ReviewComment, app: App | None) -> JSONObject:
    """Return a ``pull-request-review-comment``."""
    url = f"{r.repo_url(repo)}/pulls/comments/{comment.id}"
    pr_url = f"{r.repo_url(repo)}/pulls/{comment.pull_number}"
    html = f"{r.web}/{repo.full_name}/pull/{comment.pull_number}#discussion_r{comment.id}"
    data: JSONObject = {
        "url": url,
        "pull_request_review_id": comment.review_id,
        "id": comment.id,
        "node_id": node_id("PullRequestReviewComment", comment.id),
        "diff_hunk": "@@ -1,3 +1,3 @@",
        "path": comment.path,
        "line": comment.line,
        "side": "RIGHT",
        "commit_id": comment.commit_id,
        "original_commit_id": comment.commit_id,
        "user": r.user(comment.user),
        "body": comment.body,
        "created_at": iso(comment.created_at),
        "updated_at": iso(comment.updated_at),
        "html_url": html,
        "pull_request_url": pr_url,
        "author_association": "NONE" if app else "COLLABORATOR",
        "_links": {"self": {"href": url}, "html": {"href": html}, "pull_request": {"href": pr_url}},
        "performed_via_github_app": r.app(app) if app else None,
    }
    if comment.in_reply_to_id is not None:
        data["in_reply_to_id"] = comment.in_reply_to_id
    return data


def status(r: Render, repo: Repo, item: CommitStatus) -> JSONObject:
    """Return a ``simple-commit-status``."""
    return {
        "id": item.id,
        "node_id": node_id("StatusContext", item.id),
        "url": f"{r.repo_url(repo)}/statuses/{item.sha}",
        "state": item.state,
        "description": item.description,
        "target_url": item.target_url,
        "context": item.context,
        "avatar_url": f"https://avatars.githubusercontent.com/u/{item.creator.id}?v=4",
        "created_at": iso(item.created_at),
        "updated_at": iso(item.created_at),
    }


def check_run(r: Render, repo: Repo, run: CheckRun, app: App, prs: list[PullRequest]) -> JSONObject:
    """Return a ``check-run``."""
    html = f"{r.web}/{repo.full_name}/runs/{run.id}"
    url = f"{r.repo_url(repo)}/check-runs/{run.id}"
    return {
        "id": run.id,
        "head_sha": run.head_sha,
        "node_id": node_id("CheckRun", run.id),
        "external_id": "",
        "url": url,
        "html_url": html,
        "details_url": run.details_url or html,
        "status": run.status,
        "conclusion": run.conclusion,
        "started_at": iso(run.started_at),
        "completed_at": iso(run.completed_at) if run.completed_at is not None else None,
        "output": {
            "title": None,
            "summary": None,
            "text": None,
            "annotations_count": 0,
            "annotations_url": f"{url}/annotations",
        },
        "name": run.name,
        "check_suite": {"id": run.check_suite_id},
        "app": r.app(app),
        "pull_requests": [_minimal_pr(r, repo, pr) for pr in prs],
    }


def pull_request(r: Render, repo: Repo, pr: PullRequest, *, full: bool) -> JSONObject:
    """Return a ``pull-request`` (``full``) or the ``pull-request-simple`` that lists show."""
    url = f"{r.repo_url(repo)}/pulls/{pr.number}"
    issue = f"{r.repo_url(repo)}/issues/{pr.number}"
    html = f"{r.web}/{repo.full_name}/pull/{pr.number}"
    statuses = f"{r.repo_url(repo)}/statuses/{pr.head_sha}"
    links = {
        "self": url,
        "html": html,
        "issue": issue,
        "comments": f"{issue}/comments",
        "review_comments": f"{url}/comments",
        "review_comment": f"{r.repo_url(repo)}/pulls/comments{{/number}}",
        "commits": f"{url}/commits",
        "statuses": statuses,
    }
    data: JSONObject = {
        "url": url,
        "id": pr.id,
        "node_id": node_id("PullRequest", pr.id),
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": issue,
        "commits_url": links["commits"],
        "review_comments_url": links["review_comments"],
        "review_comment_url": links["review_comment"],
        "comments_url": links["comments"],
        "statuses_url": statuses,
        "number": pr.number,
        "state": pr.state,
        "locked": pr.locked,
        "title": pr.title,
        "user": r.user(pr.user),
        "body": pr.body,
        "labels": [r.label(repo, label) for label in pr.labels],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": iso(pr.created_at),
        "updated_at": iso(pr.updated_at),
        "closed_at": iso(pr.closed_at) if pr.closed_at is not None else None,
        "merged_at": iso(pr.merged_at) if pr.merged_at is not None else None,
        "merge_commit_sha": None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [r.user(user) for user in pr.requested_reviewers],
        "requested_teams": [],
        "head": _branch(r, repo, pr.head_ref, pr.head_sha, pr.user),
        "base": _branch(r, repo, pr.base_ref, pr.base_sha, repo.owner),
        "_links": {name: {"href": href} for name, href in links.items()},
        "author_association": "OWNER" if pr.user.id == repo.owner.id else "CONTRIBUTOR",
        "auto_merge": None,
        "draft": pr.draft,
    }
    if full:
        data.update(
            {
                "merged": pr.merged,
                "mergeable": None if pr.state == "open" else False,
                "rebaseable": None,
                "mergeable_state": "unknown",
                "merged_by": None,
                "comments": 0,
                "review_comments": 0,
                "maintainer_can_modify": False,
                "commits": 1,
                "additions": 1,
                "deletions": 0,
                "changed_files": 1,
            }
        )
    return data


def _branch(r: Render, repo: Repo, ref: str, sha: str, user: User) -> JSONObject:
    return {
        "label": f"{user.login}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": r.user(user),
        "repo": r.repo(repo),
    }


def _minimal_pr(r: Render, repo: Repo, pr: PullRequest) -> JSONObject:
    short = {"id": repo.id, "url": r.repo_url(repo), "name": repo.name}
    return {
        "id": pr.id,
        "number": pr.number,
        "url": f"{r.repo_url(repo)}/pulls/{pr.number}",
        "head": {"ref": pr.head_ref, "sha": pr.head_sha, "repo": short},
        "base": {"ref": pr.base_ref, "sha": pr.base_sha, "repo": short},
    }
