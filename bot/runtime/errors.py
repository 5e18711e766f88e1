"""One exception tree for durable functions and the adapters they call."""

from __future__ import annotations


class PrbotError(Exception):
    """Base of every error prbot raises on purpose; `retriable` says whether a retry may help."""

    retriable: bool = True


class RetriableError(PrbotError):
    """A failure worth retrying with backoff (network error, 5xx, lost connection)."""

    retriable = True


class NonRetriableError(PrbotError):
    """A failure no retry can fix: the run fails at once."""

    retriable = False


class RetryAfterError(PrbotError):
    """Retry exactly `seconds` from now (for example a rate limit that said when).

    `counted=False` spends no retry: only for a step that saved progress it resumes from (a
    long scan done in slices), or that waits for another run's, so the retries always end.
    """

    retriable = True

    def __init__(self, message: str, seconds: float, *, counted: bool = True) -> None:
        super().__init__(message)
        self.seconds = max(0.0, float(seconds))
        self.counted = counted


class StoreUnavailableError(PrbotError):
    """The store (Redis) cannot be reached or answered with an error."""

    retriable = True


class StepIdError(NonRetriableError):
    """A step id is empty or not a string."""
