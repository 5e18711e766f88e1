"""`prbot backfill` end to end: the fake GitHub redelivers to a real prbot receiver over HTTP."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from bot.cli.backfill import backfill_command
from bot.github.deliveries import ASKED, Backfill
from bot.github.shapes import HookRef
from bot.runtime import Store
from bot.settings import Settings, load_settings
from tests.fakes.github_models import Delivery, Hook
from tests.github.world import Door, door_world
from tests.web import ROOT, Running, running

HOOK_SECRET = "hook-secret-for-backfill-tests-0123456789"
ATTEMPTS = "/app/hook/deliveries/{delivery_id}/attempts"


@dataclass
class Scene:
    """A fake GitHub whose App webhook points at a running prbot, sharing its Redis."""

    door: Door
    prbot: Running
    hook: Hook
    settings: Settings
    env: dict[str, str]

    def payload(self, n: int, action: str = "opened") -> dict[str, object]:
        """Return a small pull_request payload."""
        repo = self.door.world.repo
        return {
            "action": action,
            "number": n,
            "repository": {"id": repo.id, "full_name": repo.full_name},
            "installation": {"id": self.door.world.installation.id},
        }

    def failed(self, n: int, guid: str | None = None) -> Delivery:
        """Record an attempt that never reached prbot (it was down)."""
        hooks = self.door.fake.hooks
        return hooks.record(self.hook, "pull_request", self.payload(n), status_code=0, guid=guid)

    async def backfill(
        self, *args: str, dry_run: bool = False, settle: bool = True
    ) -> tuple[int, str]:
        """Run the command in process; return its exit code and output."""
        out = io.StringIO()
        since = args[0] if args else "3d"
        code = await backfill_command(self.settings, since, dry_run, out=out, clock=self.door.clock)
        if settle:
            await self.door.fake.settle()  # let GitHub's redeliveries reach prbot
        return code, out.getvalue()

    async def ok(self, settle: bool = True) -> str:
        """Run the command, check it succeeded, and return its output."""
        code, out = await self.backfill(settle=settle)
        assert code == 0, out
        return out

    def redelivered(self) -> list[str]:
        """Return the guids GitHub redelivered, in order."""
        rows = self.door.fake.state.deliveries.values()
        return [d.guid for d in sorted(rows, key=lambda d: d.id) if d.redelivery]

    async def accepted(self, guid: str) -> bool:
        """Tell whether prbot's store recorded this delivery id."""
        record, _ = await self.door.store.reads.event(guid)
        return record is not None


@pytest.fixture
async def scene(real_store: Store, redis_url: str) -> AsyncIterator[Scene]:
    """Run prbot (no functions: deliveries are recorded and ignored) and an App hook to it."""
    async with door_world(real_store) as door:
        env = door.app_env(
            GITHUB_WEBHOOK_SECRET=HOOK_SECRET, REDIS_URL=redis_url, REDIS_KEY_PREFIX="test"
        )
        settings = load_settings(env)
        async with running(settings, []) as prbot:
            hook = door.fake.set_app_hook(
                door.world.app, f"{prbot.base}/webhooks/github", HOOK_SECRET
            )
            yield Scene(door, prbot, hook, settings, env)


async def test_backfill_redelivers_exactly_what_prbot_missed(scene: Scene) -> None:
    fake = scene.door.fake
    old = scene.failed(1)  # five hours ago
    fake.advance(5 * 3600)
    ok = await fake.deliver(scene.hook, "pull_request", scene.payload(2))
    down = [scene.failed(3), scene.failed(4)]
    twice = scene.failed(5)
    again = scene.failed(5, guid=twice.guid)  # a redelivery that failed too
    timed_out = await fake.deliver(scene.hook, "pull_request", scene.payload(6))
    timed_out.status_code, timed_out.status = 0, "timed out"  # prbot has it; GitHub gave up
    assert [await scene.accepted(d.guid) for d in (ok, timed_out, down[0])] == [True, True, False]

    code, out = await scene.backfill(dry_run=True)
    assert code == 0
    for missed in (old, *down, again):
        assert missed.guid in out
    assert ok.guid not in out and timed_out.guid not in out
    assert "6 deliveries (7 attempts) in the last 3d; 4 missed by prbot" in out
    assert "1 failed on GitHub's side but prbot has them: skipped" in out
    assert "dry run: nothing redelivered" in out
    assert fake.requests.count("POST", ATTEMPTS) == 0

    code, out = await scene.backfill("2h")
    assert code == 0, out
    assert scene.redelivered() == [down[0].guid, down[1].guid, twice.guid]
    assert fake.deliveries_of(scene.hook)[-1].id > again.id
    assert "redelivering [" in out and "] 3/3" in out
    assert "redelivered 3, failed 0" in out
    for missed in (*down, twice):
        assert await scene.accepted(missed.guid)
    assert not await scene.accepted(old.guid)  # older than 2h: left for a wider run

    out = await scene.ok()
    assert scene.redelivered()[3:] == [old.guid]  # only the one --since 2h left out
    assert await scene.accepted(old.guid)
    out = await scene.ok()
    assert fake.requests.count("POST", ATTEMPTS) == 4  # a third run asks for nothing
    assert "0 missed by prbot" in out and "redelivered 0, failed 0" in out


@pytest.fixture
async def slow_target() -> AsyncIterator[tuple[str, asyncio.Event]]:
    """Serve a webhook target that answers 503, but only once the test releases it."""
    release = asyncio.Event()

    async def receive(request: web.Request) -> web.Response:
        await request.read()
        await release.wait()
        return web.Response(status=503, text="down")

    app = web.Application()
    app.router.add_post("/webhooks/github", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/webhooks/github", release
    release.set()
    await runner.cleanup()


async def test_a_redelivery_is_asked_for_once_until_github_attempts_it(
    scene: Scene, slow_target: tuple[str, asyncio.Event]
) -> None:
    fake, prbot_url = scene.door.fake, scene.hook.url
    missed = scene.failed(1)
    scene.hook.url, release = slow_target
    out = await scene.ok(settle=False)
    assert "redelivered 1, failed 0" in out
    assert await scene.door.store.data.get(ASKED, missed.guid) == {"after_id": str(missed.id)}
    out = await scene.ok(settle=False)  # GitHub is still attempting it
    assert "1 already asked for, not attempted again yet: skipped" in out
    assert fake.requests.count("POST", ATTEMPTS) == 1
    release.set()
    await fake.settle()  # that attempt failed (503): the next run asks again
    out = await scene.ok()
    assert "redelivered 1" in out
    assert [d.status_code for d in fake.deliveries_of(scene.hook)] == [0, 503, 503]
    scene.hook.url = prbot_url
    out = await scene.ok()
    assert "redelivered 1" in out and await scene.accepted(missed.guid)
    out = await scene.ok()
    assert "0 missed by prbot" in out
    assert fake.requests.count("POST", ATTEMPTS) == 3


async def test_a_delivery_the_receiver_keeps_refusing_is_given_up(scene: Scene) -> None:
    hooks = scene.door.fake.hooks
    first = hooks.record(scene.hook, "pull_request", scene.payload(1), status_code=400)
    for _ in range(2):
        hooks.record(scene.hook, "pull_request", scene.payload(1), status_code=400, guid=first.guid)
    out = await scene.ok()
    assert (
        f"gave up on {first.guid} (pull_request.opened): the receiver answered 400 to all 3" in out
    )
    assert "0 missed by prbot" in out and scene.redelivered() == []


async def test_rate_limits_are_waited_out_or_end_the_run(scene: Scene) -> None:
    door, fake = scene.door, scene.door.fake
    missed = [scene.failed(1), scene.failed(2), scene.failed(3)]
    fake.faults.fail_next("POST", ATTEMPTS, "secondary", retry_after_s=7)
    async with door.open(scene.env) as gh:
        backfill = Backfill(gh.hooks, HookRef.app(), door.store, door.clock, door.sleep)
        summary = await backfill.run()
        assert (summary.redelivered, summary.stopped) == (3, None)
        assert door.sleep.waits == [7]  # waited as GitHub asked, then went on
        await fake.settle()
        fake.faults.fail_next("POST", ATTEMPTS, "secondary", retry_after_s=600)
        scene.failed(4)
        scene.failed(5)
        summary = await backfill.run()
    assert summary.redelivered == 0 and summary.stopped is not None
    assert "rate limited by GitHub for 600 s" in summary.stopped
    assert door.sleep.waits == [7]  # ten minutes is for the next run, not a wait here
    assert [await scene.accepted(m.guid) for m in missed] == [True, True, True]


async def test_without_a_hook_backfill_says_why(scene: Scene) -> None:
    env = {"GITHUB_TOKEN": scene.door.world.token.value, "GITHUB_API_BASE": "http://x.invalid"}
    code = await backfill_command(load_settings(env), "3d", False)
    assert code == 2
    code = await backfill_command(scene.settings, "3 days", False)
    assert code == 2


async def prbot(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run the real `prbot` command; return its exit code, stdout and stderr."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=cwd, env={**keep, **env, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.slow
async def test_the_prbot_backfill_command(scene: Scene, tmp_path: Path) -> None:
    missed = [scene.failed(1), scene.failed(2)]
    code, out, err = await prbot("backfill", "--dry-run", env=scene.env, cwd=tmp_path)
    assert code == 0, err
    assert "2 missed by prbot" in out and "dry run: nothing redelivered" in out
    code, out, err = await prbot("backfill", "--since", "1h", env=scene.env, cwd=tmp_path)
    assert code == 0, err
    assert out.count("redelivering [") == 2 and "] 2/2" in out  # one line a step in a log
    await scene.door.fake.settle()
    assert [await scene.accepted(m.guid) for m in missed] == [True, True]
    for text in (out, err):
        assert scene.door.world.private_key[40:80] not in text
    code, out, err = await prbot("backfill", "--since", "soon", env=scene.env, cwd=tmp_path)
    assert code == 2 and "--since" in err
