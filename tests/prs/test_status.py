"""`/pr status`'s text: the checks line reads the live card's failing flag."""

from __future__ import annotations

from bot.prs.mapping import ThreadRecord
from bot.prs.status import FAILING, NO_FAILING, PrStatus, status_text

RECORD = ThreadRecord(thread_id=7, channel_id=5, name="#9 Fix it", title="Fix it")


def checks_line(checks: str | None) -> str:
    """Return the Checks line for a stored flag."""
    text = status_text(PrStatus("o/r#9", "https://github.com", RECORD, None, checks))
    [line] = [line for line in text.splitlines() if line.startswith("Checks: ")]
    return line


def test_a_failing_check_is_said_and_the_flag_is_never_shown_raw() -> None:
    assert checks_line("1") == f"Checks: {FAILING}"
    assert checks_line("") == checks_line(None) == f"Checks: {NO_FAILING}"
