"""Durable functions of prbot, one module per function."""

from __future__ import annotations

from bot import render
from bot.deps import Deps
from bot.runtime import Function
from bot.threads import Threads
from functions import comments, failures, rename, reviews, thread_lifecycle


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
    ]


async def startup_checks(deps: Deps) -> None:
    """Warn once at start about forum status tags missing from routed forum channels."""
    await Threads(deps).check_forum_tags()


__all__ = ["build_functions", "startup_checks"]
