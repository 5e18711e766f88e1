"""Durable functions of prbot, one module per function."""

from __future__ import annotations

import logging

from bot.github.connect import access_problem
from bot.prs import render
from bot.prs.awaiting import AwaitingIndex
from bot.prs.backlink import Backlinks
from bot.prs.cards import Cards
from bot.prs.deps import Deps
from bot.prs.messages import ThreadMessages
from bot.prs.mirroring import Mirror
from bot.prs.threads import Threads
from bot.runtime import Function, RetriableError, RetryAfterError
from functions import (
    backlink,
    card,
    ci,
    commands,
    comments,
    digest,
    failures,
    follow,
    linking,
    mirror,
    rename,
    review_index,
    review_reminders,
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
        follow.build(deps, ThreadMessages(threads)),
        failures.build(deps),
        commands.build(deps),
        linking.build(deps),
        *review_features(deps, threads),
        *mirror_features(deps),
    ]
    # Decided by the settings, not by an open door: the receiver plans the same runs as the
    # workers, and only the workers hold the GitHub door.
    if deps.settings.github_backlink and access_problem(deps.settings) is None:
        found.append(backlink.build(Backlinks(deps, threads.records)))
    return found


def mirror_features(deps: Deps) -> list[Function]:
    """Return the thread-reply mirror when there is GitHub access and SYNC_DISCORD_REPLIES."""
    if deps.github is None or not deps.settings.sync_replies:
        return []
    return [mirror.build(Mirror(deps.store, deps.github, deps.user_map))]


def review_features(deps: Deps, threads: Threads) -> list[Function]:
    """Return the review index, reminders and digest the settings turn on (none by default)."""
    settings, index = deps.settings, AwaitingIndex(deps.store)
    after, schedule = settings.review_reminder_after, settings.digest_schedule
    out: list[Function] = []
    if after is not None or schedule is not None:
        out.append(review_index.build(index))  # before the reminders: a PR's run order
    if after is not None:
        out.append(review_reminders.build(deps, threads, index, after))
    if schedule is not None and settings.digest_channel_id is not None:
        out.append(digest.build(deps, index, schedule, settings.digest_channel_id))
    return out


async def startup_checks(deps: Deps) -> None:
    """Warn once at start about forum status tags missing from routed forum channels."""
    try:
        await Threads(deps).check_forum_tags()
    except (RetriableError, RetryAfterError) as exc:
        # Only a warning is at stake: a passing 5xx, 429 or network error must not stop a
        # worker from starting (the soak saw one Discord 503 exit `prbot serve` with 1).
        log.warning("could not check the forum tags at start: %s; continuing", exc)


__all__ = ["build_functions", "startup_checks"]
