"""What to do when a run fails: retry with backoff, retry at a given time, or give up."""

from __future__ import annotations

import random
from dataclasses import dataclass

from bot.runtime.errors import PrbotError, RetryAfterError


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: attempt n waits between half and all of base·2^(n-1)."""

    base_ms: int = 1_000
    cap_ms: int = 300_000

    def delay_ms(self, attempt: int, rng: random.Random) -> int:
        """Return the wait before retry number `attempt` (1 for the first retry)."""
        ceiling = min(self.cap_ms, self.base_ms * 2 ** max(0, attempt - 1))
        return int(ceiling / 2 + rng.random() * ceiling / 2)


@dataclass(frozen=True)
class Decision:
    """Retry at `at_ms` (attempt number `attempt`), or fail when `at_ms` is None."""

    attempt: int
    at_ms: int | None


def decide(
    error: BaseException,
    attempt: int,
    retries: int,
    now_ms: int,
    backoff: Backoff,
    rng: random.Random,
) -> Decision:
    """Decide the fate of a run whose attempt number `attempt` raised `error`."""
    nxt = attempt + 1
    if isinstance(error, PrbotError) and not error.retriable:
        return Decision(attempt, None)
    if isinstance(error, RetryAfterError) and not error.counted:
        return Decision(attempt, now_ms + int(error.seconds * 1000))
    if nxt > retries:
        return Decision(nxt, None)
    if isinstance(error, RetryAfterError):
        return Decision(nxt, now_ms + int(error.seconds * 1000))
    return Decision(nxt, now_ms + backoff.delay_ms(nxt, rng))


def describe(error: BaseException) -> str:
    """Return `Type: message` for logs and run records."""
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
