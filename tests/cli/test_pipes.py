"""`prbot replay | head` (and any command whose reader goes away) ends quietly: no traceback."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.cli import ROOT, clean_env, command

pytestmark = pytest.mark.slow


def run_into_a_closed_pipe(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `prbot ARGS...` with stdout on a pipe whose reader is already gone."""
    read, write = os.pipe()
    os.close(read)  # as `head` does once it has its lines: every write now fails with EPIPE
    try:
        return subprocess.run(
            command(*args), cwd=ROOT, env=clean_env(), stdout=write, stderr=subprocess.PIPE,
            text=True, timeout=60,
        )  # fmt: skip
    finally:
        os.close(write)


@pytest.mark.parametrize("args", [(), ("fixtures/scenarios/forum",)], ids=["default", "forum"])
def test_replay_into_a_closed_pipe_ends_quietly(args: tuple[str, ...]) -> None:
    done = run_into_a_closed_pipe("replay", *args)
    assert done.returncode == 141  # what a shell shows for a reader that went away
    assert done.stderr == ""  # no traceback, no "Exception ignored", no failed runs


def test_replay_into_head_prints_the_first_line() -> None:
    head = subprocess.run(
        f"{' '.join(command('replay'))} | head -n 1", shell=True, cwd=ROOT, env=clean_env(),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert head.stdout.startswith("prbot replay · 10 deliveries · dry run")
    assert head.stderr == ""
