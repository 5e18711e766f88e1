"""Every scenario replays to exactly its golden transcript (`pytest --update-golden` rewrites)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.ops.fixtures import scenarios_dir

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(p.name for p in scenarios_dir().iterdir() if p.is_dir())
TIMING = re.compile(r"; \d+\.\d+ s$")


def replay(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `prbot replay` as a user would, with no token, no Redis and no .env."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DISCORD_TOKEN", "REDIS_URL")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "--env-file", "/nonexistent", "replay", *args],
        cwd=ROOT, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def normalise(stdout: str) -> str:
    """Drop the run time from the summary line: the only part that may vary."""
    return "\n".join(TIMING.sub("", line) for line in stdout.splitlines()) + "\n"


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_replays_to_its_golden_transcript(
    name: str, request: pytest.FixtureRequest
) -> None:
    folder = scenarios_dir() / name
    result = replay(str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    got = normalise(result.stdout)
    golden = folder / "transcript.txt"
    if request.config.getoption("--update-golden"):
        golden.write_text(got, encoding="utf-8")
    assert golden.is_file(), f"no {golden}: run pytest tests/replay --update-golden"
    assert got == golden.read_text(encoding="utf-8")


def test_bare_replay_plays_the_lifecycle_scenario() -> None:
    result = replay()
    assert result.returncode == 0, result.stderr
    expected = (scenarios_dir() / "pr-lifecycle" / "transcript.txt").read_text(encoding="utf-8")
    assert normalise(result.stdout) == expected


def test_redelivered_comment_is_posted_once() -> None:
    out = replay(str(scenarios_dir() / "redelivery")).stdout
    assert "03-comment-redelivered.json" in out
    assert re.search(r"03-comment-redelivered\.json .* → duplicate$", out, re.M)
    comment_lines = [line for line in out.splitlines() if "commented" in line]
    assert len(comment_lines) == 2  # the comment and the later one; the redelivery adds nothing


def test_noise_makes_no_discord_action() -> None:
    out = replay(str(scenarios_dir() / "noise")).stdout
    assert not [line for line in out.splitlines() if line.startswith(("thread", "forum"))]
    assert "ping (hook " in out
    assert "Discord actions: 0" in out


def test_a_failed_run_makes_replay_exit_non_zero_and_say_which(tmp_path: Path) -> None:
    opened = json.loads((scenarios_dir() / "pr-lifecycle" / "01-opened.json").read_text())
    del opened["payload"]["pull_request"]["user"]  # a payload our models cannot read
    broken = tmp_path / "01-broken.json"
    broken.write_text(json.dumps(opened))
    result = replay(str(broken))
    assert result.returncode == 1
    assert re.search(r"^✘ run [0-9a-f]+ of pr-thread-lifecycle failed", result.stdout, re.M)
    assert re.search(r"^✘ run [0-9a-f]+ of pr-card-facts failed", result.stdout, re.M)
    assert re.search(r"runs: \d+ ok, 2 failed", result.stdout)


def test_bad_configuration_is_a_clear_error_not_a_traceback() -> None:
    result = replay(env={"THREAD_NAME_TEMPLATE": "{number} {nonexistent}"})
    assert result.returncode == 2
    assert "invalid configuration: bad THREAD_NAME_TEMPLATE" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_path_is_a_clear_error() -> None:
    result = replay("/no/such/scenario")
    assert result.returncode == 2
    assert "/no/such/scenario" in result.stderr


def time_driven(name: str) -> bool:
    """Tell whether a scenario turns on reminders or the digest (its replay is paced)."""
    env = scenarios_dir() / name / "scenario.env"
    text = env.read_text(encoding="utf-8") if env.is_file() else ""
    return "REVIEW_REMINDER_AFTER=" in text or "DIGEST_CRON=" in text


# Replayed together, scenarios share one configuration: the time-driven ones would turn
# reminders on for the others and pace the whole replay, so this test leaves them out.
STILL = [name for name in SCENARIOS if not time_driven(name)]


def test_long_replays_show_progress_and_a_summary() -> None:
    folders = [str(scenarios_dir() / name) for name in STILL]
    total = sum(len(list((scenarios_dir() / n).glob("*.json"))) for n in STILL) * 2
    result = replay(*folders, *folders)  # the second pass is all duplicates
    assert result.returncode == 0, result.stderr
    assert re.findall(r"^… (\d+)/(\d+) deliveries$", result.stderr, re.M) == [
        (str(n), str(total)) for n in range(25, total + 1, 25)
    ]
    summary = result.stdout.splitlines()[-1]
    assert summary.startswith(f"replayed {total} deliveries (72 duplicate, 3 ignored, 2 ping, 67 q")
    # Together the scenarios do what they do one by one (the forum's routing keeps the others'
    # default channel), and the second pass adds nothing.
    alone = sum(int(golden_actions(name)) for name in STILL)
    assert f"Discord actions: {alone};" in summary


def golden_actions(name: str) -> str:
    """Return the Discord action count a scenario's golden transcript ends with."""
    text = (scenarios_dir() / name / "transcript.txt").read_text(encoding="utf-8")
    found = re.search(r"Discord actions: (\d+)", text)
    assert found is not None
    return found[1]
