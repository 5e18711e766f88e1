"""`prbot runs`: list runs, show one run's step timeline, cancel or rerun one."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from bot.runtime import Registry, Runtime, Store, SystemClock, cancel_run, rerun
from bot.runtime.inspect import RunSummary, format_run, format_runs, get_run, list_runs
from bot.settings import Settings
from bot.web.board import Board
from bot.web.views import ACTIVE, RunOut

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# What `prbot runs cancel` says for each answer of the runtime, and its exit code.
CANCEL_SAID = {
    "cancelled": ("run {id} is cancelled", EXIT_OK),
    "cancelling": ("run {id} is running: it stops, cancelled, after its current step", EXIT_OK),
    "completed": ("run {id} has already completed: nothing to cancel", EXIT_FAILED),
    "failed": ("run {id} has already failed: nothing to cancel", EXIT_FAILED),
    "unknown": ("no run {id} (unknown or expired)", EXIT_FAILED),
}


@dataclass(frozen=True)
class RunsArgs:
    """What `prbot runs` was asked: an action (show, cancel, rerun) or the list's filters."""

    action: str | None = None
    run_id: str | None = None
    failed: bool = False
    status: str | None = None
    function_id: str | None = None
    limit: int = 20


async def runs_command(settings: Settings, args: RunsArgs) -> int:
    """Print the runs table, one run's timeline, or cancel or rerun a run; return the exit code."""
    if settings.embedded:
        print(
            "prbot: no REDIS_URL: the embedded store keeps nothing between commands, "
            "so there are no runs to show. Set REDIS_URL to inspect a running prbot.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.action and not args.run_id:
        print(f"prbot: usage: prbot runs {args.action} RUN_ID", file=sys.stderr)
        return EXIT_USAGE
    from bot.ops.serve import build_store

    store = build_store(settings)
    try:
        if args.action == "show" and args.run_id:
            return await _show(store, args.run_id)
        if args.action in ("cancel", "rerun") and args.run_id:
            runtime = _runtime(settings, store)
            if args.action == "cancel":
                return await _cancel(runtime, args.run_id)
            return await _rerun(runtime, args.run_id)
        print(format_runs(await _list(store, args), SystemClock().now_ms()))
        return EXIT_OK
    finally:
        await store.close()


def _runtime(settings: Settings, store: Store) -> Runtime:
    # Cancel and rerun plan runs (the cancelled event's, the rerun) but execute none: the
    # running workers do. So prbot's functions are built on a silent dry run, never logged in.
    from bot.discord.dryrun import DryRunAdapter
    from bot.prs.deps import Deps
    from functions import build_functions

    deps = Deps.build(settings, store, DryRunAdapter(echo=False))
    return Runtime(store, build_functions(deps))


async def _list(store: Store, args: RunsArgs) -> list[RunSummary]:
    status = "failed" if args.failed else args.status
    if status is None:
        return await list_runs(store, args.limit, function_id=args.function_id)
    # The dashboard's bounded scan: a status filter looks at 5,000 runs at most.
    board = Board(store, Registry(), SystemClock())
    page = await board.runs(args.limit, status, args.function_id)
    return [_summary(run) for run in page.runs]


def _summary(run: RunOut) -> RunSummary:
    return RunSummary(
        run.id, run.function, run.event, run.status, run.attempts, run.created_ms, run.replay
    )


async def _show(store: Store, run_id: str) -> int:
    detail = await get_run(store, run_id)
    if detail is None:
        print(f"prbot: no run {run_id} (unknown or expired)", file=sys.stderr)
        return EXIT_FAILED
    print(format_run(detail, SystemClock().now_ms()))
    return EXIT_OK


async def _cancel(runtime: Runtime, run_id: str) -> int:
    status = await cancel_run(runtime, run_id)
    said, code = CANCEL_SAID.get(status, (f"run {{id}}: {status}", EXIT_FAILED))
    print(("" if code == EXIT_OK else "prbot: ") + said.format(id=run_id),
          file=sys.stdout if code == EXIT_OK else sys.stderr)  # fmt: skip
    return code


async def _rerun(runtime: Runtime, run_id: str) -> int:
    state, _, _ = await runtime.store.reads.run(run_id)
    status = state.get("status")
    if status in ACTIVE:
        print(f"prbot: run {run_id} is still {status}: cancel it first "
              f"(prbot runs cancel {run_id})", file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    try:
        new_id = await rerun(runtime, run_id)
    except LookupError as exc:
        print(f"prbot: cannot rerun: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"rerun of {run_id} queued as run {new_id}: the running workers execute it")
    return EXIT_OK
