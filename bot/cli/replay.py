"""`prbot replay`: recorded deliveries through the production path, locally or against a server."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO, cast

import httpx
from dotenv import dotenv_values
from pydantic import ValidationError

from bot.ops.fixtures import FixtureError, load_deliveries
from bot.ops.output import EXIT_BROKEN_PIPE, QuietOutput
from bot.ops.replay import (
    LocalReplay,
    clock_for,
    default_scenario,
    replay_settings,
)
from bot.runtime import PrbotError, Runtime, Store, SystemClock
from bot.runtime.inspect import get_event, list_events
from bot.settings import Settings, explain, load_settings
from bot.web.actions import replay_event

SCENARIO_ENV = "scenario.env"
FORUM_KEY = "REPLAY_FORUM_CHANNELS"


def scenario_overrides(paths: Sequence[Path]) -> dict[str, str]:
    """Return settings a scenario folder asks for in its `scenario.env` (forum routing, say)."""
    out: dict[str, str] = {}
    for path in paths:
        env = path / SCENARIO_ENV
        if path.is_dir() and env.is_file():
            out.update({k: v for k, v in dotenv_values(env).items() if v is not None})
    return out


async def replay_local(
    environ: Mapping[str, str], paths: Sequence[Path], html: Path | None = None
) -> int:
    """Replay files or scenario folders in process; non-zero when a run failed.

    Settings come from `environ` with the scenario's `scenario.env` on top (forum routing, say).
    With `html`, the threads are also written there as a page that looks like Discord.
    """
    from bot.discord import DiscordAdapter, open_adapter
    from bot.discord.dryrun import DryRunAdapter
    from bot.discord.transcript import RecordingAdapter
    from bot.github.connect import open_github
    from bot.prs.deps import Deps
    from bot.web.transcript import transcript_html
    from functions import build_functions

    paths = list(paths) or default_scenario()
    try:
        recorded = load_deliveries(paths)
    except FixtureError as exc:
        print(f"prbot: {exc}", file=sys.stderr)
        return 2
    overrides = scenario_overrides(paths)
    forums = [int(c) for c in overrides.pop(FORUM_KEY, "").split(",") if c.strip()]
    try:
        settings = replay_settings(load_settings({**environ, **overrides}))
    except ValidationError as exc:
        print(f"prbot: {explain(exc)}", file=sys.stderr)
        return 2
    dry_run = settings.discord_token is None
    store = Store.connect(None, prefix="replay")
    quiet = QuietOutput(sys.stdout)  # `prbot replay | head` ends quietly
    out = cast(TextIO, quiet)  # a text stream, though not nominally a typing.TextIO
    tags = {c: _default_tags(settings) for c in forums}
    try:
        adapter: DiscordAdapter = (
            DryRunAdapter(out=out, forums=tags)
            if dry_run
            else await open_adapter(settings, store=store)
        )
    except PrbotError as exc:  # a wrong token, or Discord unreachable: say so, no traceback
        await store.close()
        print(f"prbot: cannot log in to Discord: {exc}", file=sys.stderr)
        return 2
    recording = RecordingAdapter(adapter, tags) if html is not None else None
    # A live replay reads and writes GitHub as configured; a dry run never calls it.
    github = None if dry_run else open_github(settings, store)
    try:
        try:
            deps = Deps.build(settings, store, recording or adapter, github)
            functions = build_functions(deps)
        except ValueError as exc:  # a bad template or user mapping: say so, no traceback
            print(f"prbot: invalid configuration: {exc}", file=sys.stderr)
            return 2
        runtime = Runtime(store, functions, clock=clock_for(dry_run, recorded))
        mode = (
            "dry run (no DISCORD_TOKEN): printing what Discord would receive"
            if dry_run
            else (f"live: calling Discord at {settings.discord_api_base}")
        )
        print(f"prbot replay · {len(recorded)} deliveries · {mode}", file=out)
        report = await LocalReplay(runtime, out, progress=sys.stderr).run(recorded)
        report.actions = len(adapter.lines) if isinstance(adapter, DryRunAdapter) else 0
    finally:
        if github is not None:
            await github.close()
        await adapter.close()
        await store.close()
    for run in report.failed:
        print(f"✘ run {run.run_id} of {run.function_id} failed (event {run.event_id})", file=out)
    print(report.summary(), file=out)
    if recording is not None and html is not None:
        title = "prbot replay · " + ", ".join(p.name for p in paths)
        html.write_text(transcript_html(recording.transcript, title), encoding="utf-8")
        print(f"wrote {html}: the threads as Discord would show them", file=out)
    out.flush()
    return EXIT_BROKEN_PIPE if quiet.gone else 1 if report.failed else 0


def _default_tags(settings: Settings) -> list[str]:
    from bot.prs.routing import tag_names

    return list(tag_names(settings).values())


async def replay_remote(paths: Sequence[Path], target: str, secret: str | None) -> int:
    """POST each delivery to a running prbot, signed as GitHub would when `secret` is given."""
    try:
        recorded = load_deliveries(list(paths) or default_scenario())
    except FixtureError as exc:
        print(f"prbot: {exc}", file=sys.stderr)
        return 2
    if secret is None:
        print("sending unsigned deliveries (no --secret, no GITHUB_WEBHOOK_SECRET): only "
              "`prbot dev` accepts them", file=sys.stderr)  # fmt: skip
    failures = 0
    async with httpx.AsyncClient(timeout=10) as client:
        for item in recorded:
            headers = item.signed_headers(secret) if secret else item.headers
            try:
                response = await client.post(target, content=item.body, headers=headers)
            except httpx.HTTPError as exc:
                print(f"prbot: cannot reach {target}: {exc or type(exc).__name__}", file=sys.stderr)
                return 1
            ok = response.status_code < 300
            failures += 0 if ok else 1
            print(f"{'✔' if ok else '✘'} {item.source.name} {item.delivery_id} → "
                  f"{response.status_code} {response.text[:200]}")  # fmt: skip
    print(f"sent {len(recorded)} deliveries to {target}: {len(recorded) - failures} accepted")
    return 1 if failures else 0


async def replay_stored(settings: Settings, last: int | None, delivery_ids: Sequence[str]) -> int:
    """Re-run recorded deliveries from the live store as new runs (dedup bypassed on purpose)."""
    if settings.embedded:
        print("prbot: --last/--delivery replay from a live store: set REDIS_URL", file=sys.stderr)
        return 2
    from bot.discord.dryrun import DryRunAdapter
    from bot.ops.serve import build_store
    from bot.prs.deps import Deps
    from functions import build_functions

    store: Store = build_store(settings)
    # Only matching happens here (the live workers execute), so no Discord login is needed.
    planning = build_functions(Deps.build(settings, store, DryRunAdapter(echo=False)))
    try:
        stored = [await get_event(store, d) for d in delivery_ids]
        missing = [d for d, s in zip(delivery_ids, stored, strict=True) if s is None]
        if missing:
            print(f"prbot: unknown or expired deliveries: {', '.join(missing)}", file=sys.stderr)
            return 1
        found = [s for s in stored if s is not None]
        if last:
            found += list(reversed(await list_events(store, last)))
        runtime = Runtime(store, planning)
        stamp = SystemClock().now_ms()
        for item in found:
            [res] = await runtime.send([replay_event(item.event, stamp)], meta=[item.meta],
                                       replay=True)  # fmt: skip
            print(f"↻ {item.event.id} {item.event.name} → {res.event_id}: "
                  f"{len(res.run_ids)} new run(s) {' '.join(res.run_ids)}")  # fmt: skip
        print(f"queued {len(found)} replays; the running workers execute them (see prbot runs)")
        return 0
    finally:
        await store.close()
