"""The `prbot` command line: serve, replay, runs, events, check."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from bot.settings import Settings, load_settings, read_environment


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="prbot", description=__doc__)
    parser.add_argument("--env-file", type=Path, default=Path(".env"), help="dotenv file to read")
    sub = parser.add_subparsers(dest="command", required=True)

    runs = sub.add_parser("runs", help="list runs, or `runs show RUN_ID` for one run's steps")
    runs.add_argument("action", nargs="?", choices=["show"], help="show one run")
    runs.add_argument("run_id", nargs="?", help="the run to show")
    runs.add_argument("--failed", action="store_true", help="only failed runs")
    runs.add_argument("--function", dest="function_id", help="only runs of this function")
    runs.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")
    return parser


def _settings(env_file: Path) -> Settings:
    return load_settings(read_environment(dotenv=env_file))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the prbot command line and return its exit code."""
    args = _parser().parse_args(argv)
    try:
        settings = _settings(args.env_file)
    except ValidationError as exc:
        print(f"prbot: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    if args.command == "runs":
        from bot.commands.runs import runs_command

        return asyncio.run(runs_command(settings, args.action, args.run_id, args.failed,
                                        args.function_id, args.limit))  # fmt: skip
    return 2
