"""The `prbot` command line: serve, dev, replay, runs, events, check, backfill, commands, users."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from bot.ops.logs import configure_from
from bot.ops.output import EXIT_BROKEN_PIPE, stdout_to_devnull
from bot.runtime import StoreUnavailableError
from bot.settings import Settings, explain, load_settings, read_environment

EXIT_FAILED = 1
EXIT_CONFIG = 2

RUN_STATES = ["queued", "running", "sleeping", "waiting", "retrying", "completed", "failed",
              "cancelled"]  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="prbot", description=__doc__)
    parser.add_argument("--env-file", type=Path, default=Path(".env"), help="dotenv file to read")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the webhook receiver and/or workers")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument(
        "--role",
        choices=["all", "web", "worker", "gateway"],
        default="all",
        help="all: receiver + workers + gateway (default); web, worker or gateway apart",
    )
    serve.add_argument(
        "--dry-run",
        action="store_true",
        help="no DISCORD_TOKEN needed: print what Discord would receive; keeps nothing in Redis",
    )

    dev = sub.add_parser("dev", help="run everything locally: embedded store, dry run, dashboard")
    dev.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    dev.add_argument("--port", type=int, default=8288, help="port to listen on (default 8288)")

    replay = sub.add_parser(
        "replay", help="replay recorded deliveries (fixtures or the live store)"
    )
    replay.add_argument("paths", nargs="*", type=Path, help="fixture files or scenario folders")
    replay.add_argument("--target", help="POST signed deliveries to this URL instead")
    replay.add_argument(
        "--secret",
        help="webhook secret to sign with (with --target; default GITHUB_WEBHOOK_SECRET, "
        "unsigned when neither is set: only `prbot dev` accepts that)",
    )
    replay.add_argument("--html", type=Path, help="also write the threads as a Discord-like page")
    replay.add_argument("--last", type=int, help="re-run the last N recorded deliveries")
    replay.add_argument("--delivery", action="append", default=[], help="re-run this delivery")

    events = sub.add_parser("events", help="list recorded deliveries, or `events export ID...`")
    events.add_argument("action", nargs="?", choices=["export"], help="export as fixtures")
    events.add_argument("ids", nargs="*", help="delivery ids to export")
    events.add_argument("--last", type=int, default=20, help="how many (default 20)")
    events.add_argument("--event", help="only this event name (wildcards allowed)")
    events.add_argument("--out", type=Path, help="folder to export into")

    runs = sub.add_parser("runs", help="list runs, or `runs show|cancel|rerun RUN_ID`")
    runs.add_argument(
        "action",
        nargs="?",
        choices=["show", "cancel", "rerun"],
        help="show one run's steps, cancel it, or run its function again",
    )
    runs.add_argument("run_id", nargs="?", help="the run to show, cancel or rerun")
    runs.add_argument("--failed", action="store_true", help="only failed runs")
    runs.add_argument("--status", choices=RUN_STATES, help="only runs in this state")
    runs.add_argument("--function", dest="function_id", help="only runs of this function")
    runs.add_argument("--limit", type=int, default=20, help="how many runs (default 20)")

    sub.add_parser("check", help="validate settings, Redis, the Discord login and permissions")

    backfill = sub.add_parser("backfill", help="redeliver the webhooks prbot missed (GitHub API)")
    backfill.add_argument(
        "--since", default="3d", help="how far back: 2h, 3d... (default 3d, what GitHub keeps)"
    )
    backfill.add_argument("--dry-run", action="store_true", help="list them, redeliver nothing")
    commands = sub.add_parser("commands", help="`commands sync`: register the slash commands")
    commands.add_argument("action", choices=["sync"], help="register (replace) the commands")
    commands.add_argument("--guild", type=int, help="in this server only (applies at once)")

    sub.add_parser("users", help="list the GitHub login <-> Discord user links")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the prbot command line and return its exit code."""
    args = _parser().parse_args(argv)
    environ = read_environment(dotenv=args.env_file)
    # Before anything can log: every command's secrets are redacted. Only `serve` and `dev` log
    # as they go; the others print their output and log only warnings and errors.
    services = ("serve", "dev")
    configure_from(environ, at_least="DEBUG" if args.command in services else "WARNING")
    try:
        code = _run(args, environ)
        sys.stdout.flush()  # a reader that went away (`| head`) shows here, not at exit
    except BrokenPipeError:  # the reader went away: end quietly, as `head` expects
        stdout_to_devnull()
        return EXIT_BROKEN_PIPE
    except StoreUnavailableError as exc:  # Redis down or unreachable: say so, no traceback
        print(f"prbot: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return code


def _run(args: argparse.Namespace, environ: dict[str, str]) -> int:
    if args.command == "check":  # reports invalid settings as a row of its table
        from bot.cli.check import check_command

        return asyncio.run(check_command(environ))
    try:
        settings = load_settings(environ)
    except ValidationError as exc:  # names and reasons only, never the values
        print(f"prbot: {explain(exc)}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command in ("backfill", "commands", "users"):
        return asyncio.run(_setup_command(settings, args))
    return asyncio.run(_command(settings, environ, args))


async def _command(settings: Settings, environ: dict[str, str], args: argparse.Namespace) -> int:
    # Each command's module is imported when it runs: start-up stays fast for the others.
    if args.command == "serve":
        from bot.cli.serve import serve_command

        return await serve_command(settings, args.host, args.port, args.role, dry_run=args.dry_run)
    if args.command == "dev":
        from bot.cli.dev import dev_command

        return await dev_command(settings, args.host, args.port)
    if args.command == "replay":
        return await _replay(settings, environ, args)
    if args.command == "events":
        return await _events(settings, args)
    if args.command == "runs":
        from bot.cli.runs import RunsArgs, runs_command

        asked = RunsArgs(args.action, args.run_id, args.failed, args.status, args.function_id,
                         args.limit)  # fmt: skip
        return await runs_command(settings, asked)
    return EXIT_CONFIG


async def _setup_command(settings: Settings, args: argparse.Namespace) -> int:
    if args.command == "backfill":
        from bot.cli.backfill import backfill_command

        return await backfill_command(settings, args.since, args.dry_run)
    if args.command == "commands":
        from bot.cli.commands import sync_command

        return await sync_command(settings, args.guild)
    from bot.cli.users import users_command

    return await users_command(settings)


async def _replay(settings: Settings, environ: dict[str, str], args: argparse.Namespace) -> int:
    from bot.cli import replay

    if args.target:
        stored = settings.github_webhook_secret
        secret = args.secret or (stored.get_secret_value() if stored else None)
        return await replay.replay_remote(args.paths, args.target, secret)
    if args.last or args.delivery:
        return await replay.replay_stored(settings, args.last, args.delivery)
    return await replay.replay_local(environ, args.paths, args.html)


async def _events(settings: Settings, args: argparse.Namespace) -> int:
    from bot.cli import events

    if args.action == "export":
        if not args.ids or args.out is None:
            print("prbot: usage: prbot events export ID... --out DIR", file=sys.stderr)
            return 2
        return await events.export_command(settings, args.ids, args.out)
    return await events.list_command(settings, args.last, args.event)
