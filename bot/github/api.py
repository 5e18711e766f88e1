"""The GitHub door: everything prbot asks of GitHub's REST API, in prbot's own shapes.

Every method raises the runtime's errors: `RetryAfterError` on rate limits (GitHub's reset),
`RetriableError` on 5xx, timeouts and lost connections, `GitHubApiError` (non-retriable, with
`status`) on other refusals. Nothing is retried inside: a POST whose answer was lost may have
happened, so a caller that retries a create looks for its marker first (`find_comment`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import Self, TypeVar

from pydantic import BaseModel

from bot.github.account import Account
from bot.github.client import Call, GitHubClient, parse
from bot.github.hooks import HookDeliveries
from bot.github.shapes import (
    CheckRun,
    CombinedStatus,
    GitHubApiError,
    IssueComment,
    Pull,
    RepoRef,
    Review,
    ReviewComment,
)

M = TypeVar("M", bound=BaseModel)
PER_PAGE = 100
NOT_FOUND = 404


class GitHubAdapter:
    """Pull requests, comments, review comments, CI and webhook deliveries on GitHub."""

    def __init__(self, client: GitHubClient) -> None:
        self.client = client
        self._rest = client.github.rest
        self.hooks = HookDeliveries(client)
        self.account = Account(client)

    async def close(self) -> None:
        """Close the connection pool."""
        await self.client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def is_app(self) -> bool:
        """Tell whether this door authenticates as a GitHub App (else with a token)."""
        return self.client.credentials.is_app

    # -- pull requests -------------------------------------------------------------------------

    async def get_pull(self, repo: RepoRef, number: int) -> Pull:
        """Return pull request `number`."""
        route = "GET /repos/{owner}/{repo}/pulls/{pull_number}"
        pulls = self._rest.pulls
        data = await self.client.send(
            route,
            lambda h: pulls.async_get(repo.owner, repo.name, number, headers=h),
            self.client.repo_auth(repo),
        )
        return parse(Pull, data, route)

    async def list_reviews(self, repo: RepoRef, number: int) -> list[Review]:
        """Return every submitted review of a pull request, oldest first."""
        route = "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews"
        pulls = self._rest.pulls
        return [
            review
            async for review in self._items(
                Review,
                route,
                lambda h: pulls.async_list_reviews(
                    repo.owner, repo.name, number, per_page=PER_PAGE, headers=h
                ),
                repo,
            )
        ]

    # -- issue comments (the PR's conversation) ------------------------------------------------

    def comments(self, repo: RepoRef, number: int) -> AsyncIterator[IssueComment]:
        """Yield the comments on a pull request, oldest first, a page at a time."""
        route = "GET /repos/{owner}/{repo}/issues/{issue_number}/comments"
        issues = self._rest.issues
        return self._items(
            IssueComment,
            route,
            lambda h: issues.async_list_comments(
                repo.owner, repo.name, number, per_page=PER_PAGE, headers=h
            ),
            repo,
        )

    async def find_comment(self, repo: RepoRef, number: int, marker: str) -> IssueComment | None:
        """Return the first comment whose body contains `marker`, reading page by page."""
        async for comment in self.comments(repo, number):
            if marker in comment.body:
                return comment
        return None

    async def create_comment(self, repo: RepoRef, number: int, body: str) -> IssueComment:
        """Comment on a pull request (at most 65,536 characters)."""
        route = "POST /repos/{owner}/{repo}/issues/{issue_number}/comments"
        issues = self._rest.issues
        data = await self.client.send(
            route,
            lambda h: issues.async_create_comment(repo.owner, repo.name, number, body=body,
                                                  headers=h),
            self.client.repo_auth(repo),
        )  # fmt: skip
        return parse(IssueComment, data, route)

    async def edit_comment(self, repo: RepoRef, comment_id: int, body: str) -> IssueComment:
        """Replace a comment's body."""
        route = "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}"
        issues = self._rest.issues
        data = await self.client.send(
            route,
            lambda h: issues.async_update_comment(repo.owner, repo.name, comment_id, body=body,
                                                  headers=h),
            self.client.repo_auth(repo),
        )  # fmt: skip
        return parse(IssueComment, data, route)

    async def delete_comment(self, repo: RepoRef, comment_id: int) -> bool:
        """Delete a comment; False when it was already gone."""
        route = "DELETE /repos/{owner}/{repo}/issues/comments/{comment_id}"
        issues = self._rest.issues
        return await self._delete(
            route,
            lambda h: issues.async_delete_comment(repo.owner, repo.name, comment_id, headers=h),
            repo,
        )

    # -- review comments (inline threads) ------------------------------------------------------

    def review_comments(self, repo: RepoRef, number: int) -> AsyncIterator[ReviewComment]:
        """Yield a pull request's inline review comments, a page at a time."""
        route = "GET /repos/{owner}/{repo}/pulls/{pull_number}/comments"
        pulls = self._rest.pulls
        return self._items(
            ReviewComment,
            route,
            lambda h: pulls.async_list_review_comments(
                repo.owner, repo.name, number, per_page=PER_PAGE, headers=h
            ),
            repo,
        )

    async def find_review_comment(
        self, repo: RepoRef, number: int, marker: str
    ) -> ReviewComment | None:
        """Return the first review comment whose body contains `marker`."""
        async for comment in self.review_comments(repo, number):
            if marker in comment.body:
                return comment
        return None

    async def reply_to_review_comment(
        self, repo: RepoRef, number: int, comment_id: int, body: str
    ) -> ReviewComment:
        """Reply in the thread of review comment `comment_id` (replies to replies go to the top)."""
        route = "POST /repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies"
        pulls = self._rest.pulls
        data = await self.client.send(
            route,
            lambda h: pulls.async_create_reply_for_review_comment(
                repo.owner, repo.name, number, comment_id, body=body, headers=h
            ),
            self.client.repo_auth(repo),
        )
        return parse(ReviewComment, data, route)

    async def edit_review_comment(self, repo: RepoRef, comment_id: int, body: str) -> ReviewComment:
        """Replace a review comment's body."""
        route = "PATCH /repos/{owner}/{repo}/pulls/comments/{comment_id}"
        pulls = self._rest.pulls
        data = await self.client.send(
            route,
            lambda h: pulls.async_update_review_comment(
                repo.owner, repo.name, comment_id, body=body, headers=h
            ),
            self.client.repo_auth(repo),
        )
        return parse(ReviewComment, data, route)

    async def delete_review_comment(self, repo: RepoRef, comment_id: int) -> bool:
        """Delete a review comment; False when it was already gone."""
        route = "DELETE /repos/{owner}/{repo}/pulls/comments/{comment_id}"
        pulls = self._rest.pulls
        return await self._delete(
            route,
            lambda h: pulls.async_delete_review_comment(
                repo.owner, repo.name, comment_id, headers=h
            ),
            repo,
        )

    # -- CI ------------------------------------------------------------------------------------

    async def check_runs(self, repo: RepoRef, ref: str) -> list[CheckRun]:
        """Return the latest check run of each name on `ref` (a sha, branch or tag)."""
        route = "GET /repos/{owner}/{repo}/commits/{ref}/check-runs"
        checks = self._rest.checks
        return [
            run
            async for run in self._items(
                CheckRun,
                route,
                lambda h: checks.async_list_for_ref(
                    repo.owner, repo.name, ref, per_page=PER_PAGE, headers=h
                ),
                repo,
                key="check_runs",
            )
        ]

    async def combined_status(self, repo: RepoRef, ref: str) -> CombinedStatus:
        """Return the combined commit status of `ref` (`pending` and 0 statuses: none at all)."""
        route = "GET /repos/{owner}/{repo}/commits/{ref}/status"
        repos = self._rest.repos
        data = await self.client.send(
            route,
            lambda h: repos.async_get_combined_status_for_ref(
                repo.owner, repo.name, ref, per_page=PER_PAGE, headers=h
            ),
            self.client.repo_auth(repo),
        )
        return parse(CombinedStatus, data, route)

    # -- helpers -------------------------------------------------------------------------------

    async def _items(
        self, model: type[M], route: str, first: Call, repo: RepoRef, key: str | None = None
    ) -> AsyncIterator[M]:
        auth = self.client.repo_auth(repo)
        async for page in self.client.pages(route, first, auth, key):
            for item in page:
                yield parse(model, item, route)

    async def _delete(self, route: str, call: Call, repo: RepoRef) -> bool:
        try:
            await self.client.send(route, call, self.client.repo_auth(repo))
        except GitHubApiError as exc:
            if exc.status == NOT_FOUND:
                return False
            raise
        return True
