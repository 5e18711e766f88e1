"""What a handler receives: the event, the step API and facts about its run."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from bot.runtime.events import Event
from bot.runtime.steps import Step


@dataclass(frozen=True)
class Context:
    """`ctx` of a handler: `event`, `step`, `run_id`, `attempt` and a logger bound to the run."""

    event: Event
    step: Step
    run_id: str
    function_id: str
    attempt: int
    logger: logging.LoggerAdapter[logging.Logger]
    replay: bool = False


# The run whose handler this task executes (set by the executor): what a step does in it can
# keep state that lives exactly as long as the run (`AppData.lock(..., run_id=…)`).
_CURRENT_RUN: ContextVar[str | None] = ContextVar("prbot_current_run", default=None)


def current_run_id() -> str | None:
    """Return the id of the run executing in this task, None outside any run."""
    return _CURRENT_RUN.get()


@contextmanager
def running_as(run_id: str) -> Iterator[None]:
    """Mark the code inside as executing the run `run_id` (for `current_run_id`)."""
    token = _CURRENT_RUN.set(run_id)
    try:
        yield
    finally:
        _CURRENT_RUN.reset(token)
