"""Replay against a running prbot, and from its live store: real processes, real Redis."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.ops.fixtures import load_deliveries, load_delivery, scenarios_dir
from tests.loopback import free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET = "live-replay-secret"
REDELIVERY = scenarios_dir() / "redelivery"


@pytest.fixture
def fake_discord() -> Iterator[dict[str, str]]:
    """Run the fake Discord as a process; yield the ids it seeded (`api_base`, `token`...)."""
    command = [sys.executable, "-m", "tests.fakes.discord_server", "--port", str(free_port())]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            seeded: dict[str, str] = json.loads(proc.stdout.readline())
            yield seeded
        finally:
            proc.terminate()


@pytest.fixture
def live_env(redis_url: str, fake_discord: dict[str, str]) -> dict[str, str]:
    """Return the environment of a prbot on the test Redis and the fake Discord."""
    return dict(os.environ) | {
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"live-{uuid.uuid4().hex[:8]}",
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "DISCORD_TOKEN": fake_discord["token"],
        "DISCORD_API_BASE": fake_discord["api_base"],
        "DISCORD_CHANNEL_ID": fake_discord["text_channel_id"],
    }


@pytest.fixture
def server(live_env: dict[str, str]) -> Iterator[str]:
    """Run `prbot serve` (against the fake Discord) and yield its webhook URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "--env-file", "/nonexistent", "serve", "--port", str(port)],
        cwd=ROOT, env=live_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("prbot serve did not become ready")
    yield f"{base}/webhooks/github"
    proc.terminate()
    assert proc.wait(timeout=30) == 0


def prbot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run the prbot command line."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "--env-file", "/nonexistent", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def wait_for_runs(env: dict[str, str], pattern: str, count: int) -> str:
    """Poll `prbot runs` until `count` rows match `pattern`; return the table."""
    deadline = time.monotonic() + 20
    table = ""
    while time.monotonic() < deadline:
        table = prbot(env, "runs", "--limit", "100").stdout
        if len(re.findall(pattern, table, re.M)) >= count:
            return table
        time.sleep(0.1)
    raise AssertionError(f"expected {count} rows matching {pattern!r} in:\n{table}")


def test_replay_target_signs_and_posts_each_delivery(server: str, live_env: dict[str, str]) -> None:
    out = prbot(live_env, "replay", str(REDELIVERY), "--target", server, "--secret", SECRET)
    assert out.returncode == 0, out.stdout + out.stderr
    statuses = re.findall(r'→ 202 \{"id":"[^"]+","status":"(\w+)"\}', out.stdout)
    assert statuses == ["queued", "queued", "duplicate", "queued"]
    wrong = prbot(live_env, "replay", str(REDELIVERY), "--target", server, "--secret", "nope")
    assert wrong.returncode == 1
    assert wrong.stdout.count("→ 401") == 4
    assert SECRET not in out.stdout + out.stderr + wrong.stdout + wrong.stderr


def test_replay_target_signs_with_the_configured_secret(
    server: str, live_env: dict[str, str]
) -> None:
    out = prbot(live_env, "replay", str(REDELIVERY), "--target", server)  # no --secret
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("→ 202") == 4
    unset = live_env | {"GITHUB_WEBHOOK_SECRET": ""}
    # Neither set: sent unsigned (what `prbot dev` takes), which a signing prbot refuses.
    refused = prbot(unset, "replay", str(REDELIVERY), "--target", server)
    assert refused.returncode == 1 and "unsigned" in refused.stderr
    assert refused.stdout.count("→ 401") == 4
    assert SECRET not in out.stdout + out.stderr


def test_events_list_export_and_replay_from_the_live_store(
    server: str, live_env: dict[str, str], tmp_path: Path
) -> None:
    sent = prbot(live_env, "replay", str(REDELIVERY), "--target", server, "--secret", SECRET)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    recorded = load_deliveries([REDELIVERY])
    unique = list(dict.fromkeys(d.delivery_id for d in recorded))
    listing = prbot(live_env, "events", "--last", "10")
    assert listing.returncode == 0, listing.stderr
    rows = [line.split() for line in listing.stdout.splitlines()[1:]]
    # prbot's own events (a card refresh) are listed too; the deliveries are the github/ ones.
    assert {r[1] for r in rows if not r[1].startswith("github/")} <= {"prbot/card.refresh"}
    rows = [r for r in rows if r[1].startswith("github/")]
    assert [r[0] for r in rows] == list(reversed(unique))  # newest first, redelivery stored once
    assert {r[2] for r in rows} == {"octo-org/hello-world#46"}
    only = prbot(live_env, "events", "--event", "github/pull_request.*").stdout.splitlines()[1:]
    assert [line.split()[0] for line in only] == [unique[0]]

    exported = prbot(live_env, "events", "export", unique[1], "--out", str(tmp_path))
    assert exported.returncode == 0, exported.stderr
    fixture = load_delivery(tmp_path / "01-issue-comment-created.json")
    original = recorded[1]
    assert fixture.payload() == original.payload()
    assert fixture.delivery_id == original.delivery_id
    assert "X-Hub-Signature-256" not in json.loads(fixture.source.read_text())["headers"]

    wait_for_runs(live_env, r"completed", 3)
    again = prbot(live_env, "replay", "--delivery", unique[1])
    assert again.returncode == 0, again.stderr
    assert re.search(
        rf"{unique[1]} github/issue_comment.created → {unique[1]}\.replay-", again.stdout
    )
    table = wait_for_runs(live_env, r"\(replay\)\s+completed", 1)
    assert len(re.findall(rf"{unique[1]}\s", table)) == 1  # the original run, untouched
    last = prbot(live_env, "replay", "--last", "2")
    assert last.returncode == 0, last.stderr
    assert "queued 2 replays" in last.stdout
    wait_for_runs(live_env, r"\(replay\)\s+completed", 3)
    missing = prbot(live_env, "replay", "--delivery", "no-such-delivery")
    assert missing.returncode == 1
    assert "no-such-delivery" in missing.stderr
