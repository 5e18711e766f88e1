"""`prbot check`: validate a configuration before the first webhook arrives; print ✔/✘ rows.

Settings, Redis, the Discord login, every routed channel, the bot's permissions there and forum
tags. Only reads: nothing is created, posted or stored. Secrets show as "set" or "missing".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.ops.check import format_table, run_checks, secrets_in, summary


async def check_command(values: Mapping[str, str]) -> int:
    """Print the ✔/✘ table for the configuration in `values`; 1 when anything is wrong."""
    secrets = secrets_in(values)
    # Not for a check: discord.py warns about the gateway intents and voice it never uses here.
    logging.getLogger("discord").setLevel(logging.ERROR)
    report, invite = await run_checks(values)
    print(format_table(report.checks, secrets))
    if invite:
        print(f"\nInvite (or re-invite) the bot with the permissions it needs:\n  {invite}")
    print(summary(report.checks))
    return 1 if report.failed else 0
