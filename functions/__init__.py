"""Durable functions of prbot, one module per function."""

from __future__ import annotations

import logging

from bot.github.connect import access_problem
from bot.prs import render
from bot.prs.backlink import Backlinks
from bot.prs.cards import Cards
from bot.prs.deps import Deps
from bot.prs.messages import ThreadMessages
from bot.prs.threads import Threads
from bot.runtime import Function, RetriableError, RetryAfterError
from functions import (
    backlink,
    card,
    ci,
    comments,
    failures,
    mirror,
    rename,
    reviews,
    thread_lifecycle,
)

log = logging.getLogger(__name__)


def build_functions(deps: Deps) -> list[Function]:
    """Return every function of prbot, wired to `deps`."""
    render.check_template(deps.settings.thread_name_template)
    threads = Threads(deps)
    cards = Cards(deps, threads)
    found = [
        thread_lifecycle.build(deps, threads, cards),
        rename.build(threads),
        *comments.build(deps, threads),
        reviews.build(deps, threads),
        *card.build(cards),
        ci.build(cards),
        mirror.build(deps, ThreadMessages(threads)),
        failures.build(deps),
    ]
    # Decided by the settings, not by an open door: the receiver plans the same runs as the
    # workers, and only the workers hold the GitHub door.
    if deps.settings.github_backlink and access_problem(deps.settings) is None:
        found.append(backlink.build(Backlinks(deps, threads.records)))
    return found


async def startup_checks(deps: Deps) -> None:
    """Warn once at start about forum status tags missing from routed forum channels."""
    try:
        await Threads(deps).check_forum_tags()
    except (RetriableError, RetryAfterError) as exc:
        # Only a warning is at stake: a passing 5xx, 429 or network error must not stop a
        # worker from starting (the soak saw one Discord 503 exit `prbot serve` with 1).
        log.warning("could not check the forum tags at start: %s; continuing", exc)


__all__ = ["build_functions", "startup_checks"]
