"""What a handler receives: the event, the step API and facts about its run."""

from __future__ import annotations

import logging
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
