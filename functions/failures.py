"""Failures: log every failed run and, when DISCORD_ALERT_CHANNEL_ID is set, post an alert."""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict

from bot.github.payloads import parse
from bot.prs import render
from bot.prs.deps import Deps
from bot.prs.effects import Attempts, post_once
from bot.runtime import FUNCTION_FAILED, Context, Function, function

log = logging.getLogger(__name__)

FUNCTION_ID = "failure-alerts"


class FailedEvent(BaseModel):
    """The data of a `prbot/function.failed` event."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    function_id: str
    run_id: str
    error: str = ""


def build(deps: Deps) -> Function:
    """Return the failure function on `prbot/function.failed`."""

    @function(FUNCTION_ID, FUNCTION_FAILED, retries=2)
    async def failures(ctx: Context) -> str:
        failed = parse(FailedEvent, ctx.event.data)
        log.error(
            "function %s failed (run %s): %s", failed.function_id, failed.run_id, failed.error
        )
        channel_id = deps.settings.discord_alert_channel_id
        if channel_id is None:
            return "logged"
        message = render.failure_alert(failed.function_id, failed.run_id, failed.error)
        nonce = ctx.step.nonce("alert")
        attempts = Attempts(deps.store)
        # The alert names the run, so an earlier try's alert is found among the newest messages.
        await ctx.step.run(
            "alert", post_once, deps.discord, attempts, channel_id, message, nonce, None
        )
        return "alerted"

    return failures
