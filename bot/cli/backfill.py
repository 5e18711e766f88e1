"""`prbot backfill [--since DURATION] [--dry-run]`: redeliver the webhooks prbot missed.

Lists the webhook's recent deliveries (the App's, or `GITHUB_HOOK` with a token), groups them by
guid and asks GitHub to redeliver each one without a successful attempt that prbot's store has
not recorded. Prints a progress bar while it redelivers, then a summary.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from typing import TextIO

from bot.github.connect import backfill_hook, backfill_problem, open_github
from bot.github.deliveries import Backfill, Missed, Summary
from bot.ops.serve import build_store
from bot.runtime import Clock, PrbotError, SystemClock
from bot.settings import Settings, parse_duration

BAR_WIDTH = 30
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def progress_bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """Return `[#####-----] 3/6`."""
    filled = width * done // total if total else width
    return f"[{'#' * filled}{'-' * (width - filled)}] {done}/{total}"


def missed_line(item: Missed) -> str:
    """Return one missed delivery as a table row."""
    when = datetime.fromtimestamp(item.first_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    status = item.last_status or "no answer"
    tries = f"{item.attempts} attempt{'s' if item.attempts > 1 else ''}"
    return f"  {item.guid}  {item.name:<32} {when}  last {status} ({tries})"


def summary_lines(summary: Summary) -> list[str]:
    """Return what a run saw and did, for people."""
    lines = [
        f"{summary.deliveries} deliveries ({summary.attempts} attempts) in the last "
        f"{_span(summary.since_s)}; {len(summary.missed)} missed by prbot"
    ]
    if summary.accepted:
        lines.append(f"{summary.accepted} failed on GitHub's side but prbot has them: skipped")
    if summary.awaiting:
        lines.append(f"{summary.awaiting} already asked for, not attempted again yet: skipped")
    for item in summary.gave_up:
        why = f"answered {item.last_status} to all {item.attempts} attempts"
        lines.append(f"gave up on {item.guid} ({item.name}): the receiver {why}")
    if summary.dry_run:
        lines.append("dry run: nothing redelivered")
        return lines
    lines.append(f"redelivered {summary.redelivered}, failed {len(summary.failed)}")
    lines += [f"  failed {why}" for why in summary.failed]
    if summary.stopped:
        lines.append(f"stopped early: {summary.stopped}; run `prbot backfill` again later")
    return lines


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:.0f}s"


async def backfill_command(
    settings: Settings,
    since: str,
    dry_run: bool,
    *,
    out: TextIO = sys.stdout,
    clock: Clock | None = None,
) -> int:
    """Run one backfill; 0 when everything missed was redelivered (or listed, dry run)."""
    try:
        since_s = parse_duration(since)
    except ValueError as exc:
        print(f"prbot backfill: --since: {exc}", file=sys.stderr)
        return EXIT_USAGE
    problem, hook = backfill_problem(settings), backfill_hook(settings)
    if problem is not None or hook is None:
        print(f"prbot backfill: {problem}", file=sys.stderr)
        return EXIT_USAGE
    clock = clock or SystemClock()
    store = build_store(settings)
    door = open_github(settings, store, clock=clock, sleep=asyncio.sleep)
    assert door is not None
    where = "the App's webhook" if hook.is_app else hook.path
    print(f"prbot backfill · {where} at {settings.github_api_base} · since {since}", file=out)
    tty = out.isatty()

    def progress(done: int, total: int) -> None:
        # On a terminal the bar redraws in place; in a log, one line per step.
        start, end = ("\r", "\n" if done == total else "") if tty else ("", "\n")
        print(f"{start}redelivering {progress_bar(done, total)}", end=end, file=out, flush=True)

    try:
        backfill = Backfill(door.hooks, hook, store, clock, asyncio.sleep)
        summary = await backfill.plan(since_s)
        if summary.missed:
            print("missed deliveries (guid, event, first attempt, last answer):", file=out)
            print("\n".join(missed_line(item) for item in summary.missed), file=out)
        summary.dry_run = dry_run
        if not dry_run:
            await backfill.redeliver(summary, progress)
    except PrbotError as exc:
        print(f"prbot backfill: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        await door.close()
        await store.close()
    print("\n".join(summary_lines(summary)), file=out)
    return EXIT_FAILED if summary.failed or summary.stopped else EXIT_OK
