"""`prbot dev`: up on loopback, unsigned fixtures pushed in and watched on /api.

How fast it starts is measured by `python -m benchmarks.startup` (in the README's table), not
here: this only gives up on a start that hangs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.loopback import free_port

ROOT = Path(__file__).resolve().parents[2]
STARTUP_S = 30.0


def _prbot(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", "--env-file", "/nonexistent", *args]


def test_dev_serves_unsigned_fixtures_and_the_dashboard(redis_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    # Ignored by dev: it always uses the embedded store and takes unsigned deliveries.
    env |= {"REDIS_URL": redis_url, "GITHUB_WEBHOOK_SECRET": "a-secret-dev-ignores-0123"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    command = _prbot("dev", "--port", str(port))
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=0.5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.02)
            assert time.monotonic() - started < STARTUP_S, f"no /healthz within {STARTUP_S:.0f} s"
        sent = subprocess.run(
            _prbot("replay", "fixtures/scenarios/pr-lifecycle", "--target",
                   f"{base}/webhooks/github"),
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stdout + sent.stderr
        assert "10 accepted" in sent.stdout
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            runs = httpx.get(f"{base}/api/runs", params={"limit": 50}).json()["runs"]
            # One run per function a delivery matches (the card's facts for each PR and review
            # delivery), the rename; the card itself is debounced (2 s of wall time here).
            core = [r for r in runs if r["function"] != "pr-card"]
            shown = any(r["function"] == "pr-card" for r in runs)
            if len(core) == 19 and shown and all(r["status"] == "completed" for r in runs):
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"runs did not complete: {runs}")
        assert {r["pr"] for r in runs} == {"octo-org/hello-world#42"}
        assert httpx.get(f"{base}/ui").status_code == 200
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert f"dashboard   {base}/ui" in out
    assert "dry run" in out
    assert "thread 10001 message: 🟣 Merged by **monalisa**" in out  # the dry run's transcript


def test_dev_binds_loopback_only() -> None:
    done = subprocess.run(_prbot("dev", "--host", "0.0.0.0"), cwd=ROOT, capture_output=True,
                          text=True, timeout=30)  # fmt: skip
    assert done.returncode == 2
    assert "binds loopback only" in done.stderr
