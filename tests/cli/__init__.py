"""Tests of the `prbot` command line, mostly as real processes: exit codes, output, logging."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def clean_env(**values: str) -> dict[str, str]:
    """Return PATH and HOME only, plus `values`: no prbot setting leaks in from the test run."""
    return {k: v for k, v in os.environ.items() if k in ("PATH", "HOME")} | values


def command(*args: str) -> list[str]:
    """Return the argv of `prbot ARGS...` with no `.env` read."""
    return [sys.executable, "-m", "bot", "--env-file", "/nonexistent", *args]


def prbot(
    env: dict[str, str], *args: str, timeout_s: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `prbot ARGS...` to the end; return its exit code and output."""
    return subprocess.run(
        command(*args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s
    )
