"""`prbot check`: the verdicts (pure) and the probe that gathers what they judge."""

from bot.ops.check.probe import run_checks, secrets_in
from bot.ops.check.verdicts import Check, Report, format_table, summary

__all__ = ["Check", "Report", "format_table", "run_checks", "secrets_in", "summary"]
