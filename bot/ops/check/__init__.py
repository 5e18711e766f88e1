"""`prbot check`: the verdicts (pure) and the probe that gathers what they judge."""

from bot.ops.check.probe import run_checks
from bot.ops.check.verdicts import Check, Report, format_table, summary
from bot.ops.logs import secrets_in

__all__ = ["Check", "Report", "format_table", "run_checks", "secrets_in", "summary"]
