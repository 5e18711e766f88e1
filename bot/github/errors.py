"""githubkit's exceptions translated into the runtime's: when to retry, and when to stop.

Rate limits: https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api
(primary: `x-ratelimit-remaining: 0` until `x-ratelimit-reset`; secondary: `retry-after`, else
at least a minute). githubkit computes `retry_after` on the machine clock; prbot's own clock
decides here, so a test (or a replay) that moves time sees consistent waits.
"""

from __future__ import annotations

from githubkit.exception import (
    PrimaryRateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
    SecondaryRateLimitExceeded,
)

from bot.github.shapes import GitHubApiError
from bot.runtime import PrbotError, RetriableError, RetryAfterError

SECONDARY_MIN_S = 60.0
MIN_WAIT_S = 1.0
_RETRIABLE_STATUSES = {408, 500, 502, 503, 504}


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _reset_in(exc: RequestFailed, now_s: float) -> float | None:
    reset = _number(exc.response.headers.get("x-ratelimit-reset"))
    return None if reset is None else reset - now_s


def rate_limit_wait(exc: RequestFailed, now_s: float) -> float:
    """Return how long GitHub asks to wait before the next try, in seconds."""
    retry_after = _number(exc.response.headers.get("retry-after"))
    if retry_after is not None:
        return max(MIN_WAIT_S, retry_after)
    reset_in = _reset_in(exc, now_s)
    if isinstance(exc, SecondaryRateLimitExceeded):
        return max(SECONDARY_MIN_S, reset_in or 0.0)
    if reset_in is None and isinstance(exc, PrimaryRateLimitExceeded):
        reset_in = exc.retry_after.total_seconds()
    return max(MIN_WAIT_S, reset_in if reset_in is not None else SECONDARY_MIN_S)


def _message(exc: RequestFailed) -> str:
    """Return GitHub's own words for a refusal, with what it says is missing."""
    response = exc.response
    try:
        body = response.json()
    except ValueError:
        body = None
    message = str(body.get("message", "")) if isinstance(body, dict) else ""
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        details = [e.get("message") or e.get("code") for e in body["errors"] if isinstance(e, dict)]
        message += f" ({'; '.join(str(d) for d in details if d)})" if any(details) else ""
    message = message or response.reason_phrase or "refused"
    wanted = response.headers.get("x-accepted-github-permissions")
    if wanted:
        message += f"; needs permission {wanted}"
    scopes = response.headers.get("x-accepted-oauth-scopes")
    if scopes and response.status_code in (403, 404):
        message += f"; a classic token needs scope {scopes}"
    return message


def translate(exc: Exception, route: str, now_s: float) -> PrbotError:
    """Return the runtime error for a githubkit exception raised by a call to `route`."""
    if isinstance(exc, PrimaryRateLimitExceeded | SecondaryRateLimitExceeded):
        which = "secondary" if isinstance(exc, SecondaryRateLimitExceeded) else "primary"
        wait_s = rate_limit_wait(exc, now_s)
        return RetryAfterError(f"GitHub {which} rate limit on {route}", wait_s)
    if isinstance(exc, RequestFailed):
        status = exc.response.status_code
        if status == 429:  # a 429 without rate-limit headers: an edge proxy
            return RetryAfterError(f"GitHub 429 on {route}", rate_limit_wait(exc, now_s))
        if status in _RETRIABLE_STATUSES or status >= 500:
            return RetriableError(f"GitHub {status} on {route}")
        return GitHubApiError(route, status, _message(exc))
    if isinstance(exc, RequestTimeout):
        return RetriableError(f"GitHub did not answer {route} in time")
    if isinstance(exc, RequestError):
        return RetriableError(f"GitHub unreachable on {route}: {type(exc.exc).__name__}")
    return RetriableError(f"GitHub call {route} failed: {type(exc).__name__}")
