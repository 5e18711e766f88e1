"""GitHub's documented REST rules as pure functions: error bodies, limits, pagination, time.

Sources: https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api,
https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api,
https://docs.github.com/rest/issues/comments#create-an-issue-comment (65,536 characters).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

JSONObject = dict[str, Any]

COMMENT_MAX = 65_536
PER_PAGE_DEFAULT = 30
PER_PAGE_MAX = 100
DOCS = "https://docs.github.com/rest"
RATE_LIMIT_DOCS = (
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
)
PRIMARY_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"


class GitHubError(Exception):
    """An error answer in GitHub's shape: status, message, optional field errors and headers."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[JSONObject] | None = None,
        documentation_url: str = DOCS,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.errors = errors
        self.documentation_url = documentation_url
        self.headers = dict(headers or {})

    def body(self) -> JSONObject:
        """Return the JSON error body (GitHub now also sends the status as a string)."""
        body: JSONObject = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        body["documentation_url"] = self.documentation_url
        body["status"] = str(self.status)
        return body


def bad_credentials() -> GitHubError:
    """Return the 401 for a wrong, revoked or expired token."""
    return GitHubError(401, "Bad credentials")


def requires_authentication() -> GitHubError:
    """Return the 401 for a route that needs credentials when none were sent."""
    return GitHubError(401, "Requires authentication")


def jwt_error(message: str) -> GitHubError:
    """Return a 401 about the App JWT (GitHub's messages name the failing claim)."""
    return GitHubError(401, message)


def not_found() -> GitHubError:
    """Return GitHub's 404 (also its answer when a token may not see the resource)."""
    return GitHubError(404, "Not Found")


def not_accessible(kind: str, headers: Mapping[str, str] | None = None) -> GitHubError:
    """Return the 403 for a token without the permission: ``kind`` is integration or token."""
    what = "integration" if kind == "integration" else "personal access token"
    return GitHubError(403, f"Resource not accessible by {what}", headers=headers)


def validation_failed(resource: str, field: str, code: str, message: str = "") -> GitHubError:
    """Return the 422 ``Validation Failed`` with one field error."""
    error: JSONObject = {"resource": resource, "code": code, "field": field}
    if message:
        error["message"] = message
    return GitHubError(422, "Validation Failed", errors=[error])


def locked() -> GitHubError:
    """Return the 403 for a comment on a locked conversation."""
    return GitHubError(403, "Unable to create comment because issue is locked.")


def check_comment_body(body: JSONObject, resource: str) -> str:
    """Return ``body["body"]``, or raise GitHub's 422 when it is missing, empty or too long."""
    text = body.get("body")
    if not isinstance(text, str) or not text:
        raise validation_failed(resource, "body", "missing_field")
    if len(text) > COMMENT_MAX:
        raise validation_failed(
            resource, "body", "custom", f"body is too long (maximum is {COMMENT_MAX} characters)"
        )
    return text


# -- time --------------------------------------------------------------------------------------


def iso(ts: float) -> str:
    """Format epoch seconds as GitHub does: ``2011-04-14T16:00:49Z`` (second precision)."""
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- pagination ---------------------------------------------------------------------------------


def page_args(query: Mapping[str, str]) -> tuple[int, int]:
    """Return ``(page, per_page)`` from the query: defaults 1 and 30, per_page capped at 100."""
    page = _int_arg(query, "page", 1)
    per_page = _int_arg(query, "per_page", PER_PAGE_DEFAULT)
    return max(page, 1), min(max(per_page, 1), PER_PAGE_MAX)


def per_page_arg(query: Mapping[str, str]) -> int:
    """Return ``per_page`` (default 30, at most 100)."""
    return min(max(_int_arg(query, "per_page", PER_PAGE_DEFAULT), 1), PER_PAGE_MAX)


def _int_arg(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise validation_failed("Search", name, "invalid") from None


def page_links(url: str, query: Mapping[str, str], page: int, per_page: int, total: int) -> str:
    """Return the ``Link`` header for page-numbered results (empty when everything fits)."""
    last = max((total + per_page - 1) // per_page, 1)
    if last == 1 and page == 1:
        return ""
    rels: list[tuple[str, int]] = []
    if page > 1:
        rels.append(("prev", min(page - 1, last)))
    if page < last:
        rels += [("next", page + 1), ("last", last)]
    if page > 1:
        rels.append(("first", 1))
    return ", ".join(f'<{with_query(url, query, page=str(n))}>; rel="{rel}"' for rel, n in rels)


def with_query(url: str, query: Mapping[str, str], **changes: str) -> str:
    """Return ``url`` with ``query`` updated by ``changes``."""
    merged = {**query, **changes}
    return f"{url}?{urlencode(merged)}" if merged else url


def paginate(items: list[Any], page: int, per_page: int) -> list[Any]:
    """Return one page of ``items``."""
    start = (page - 1) * per_page
    return items[start : start + per_page]
