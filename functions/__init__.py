"""Durable functions of prbot, one module per function."""

from __future__ import annotations

import logging

from bot.prs import render
from bot.prs.deps import Deps
from bot.prs.threads import Threads
from bot.runtime import Function, RetriableError, RetryAfterError
from functions import commands, comments, failures, linking, rename, reviews, thread_lifecycle

log = logging.getLogger(__name__)


def build_functions(deps: Deps) -> list[Function]:
    """Return every function of prbot, wired to `deps`."""
    render.check_template(deps.settings.thread_name_template)
    threads = Threads(deps)
    return [
        thread_lifecycle.build(deps, threads),
        rename.build(threads),
        *comments.build(deps, threads),
        reviews.build(deps, threads),
        failures.build(deps),
        commands.build(deps),
        linking.build(deps),
    ]


async def startup_checks(deps: Deps) -> None:
    """Warn once at start about forum status tags missing from routed forum channels."""
    try:
        await Threads(deps).check_forum_tags()
    except (RetriableError, RetryAfterError) as exc:
        # Only a warning is at stake: a passing 5xx, 429 or network error must not stop a
        # worker from starting (the soak saw one Discord 503 exit `prbot serve` with 1).
        log.warning("could not check the forum tags at start: %s; continuing", exc)


__all__ = ["build_functions", "startup_checks"]
