"""The one test command: `python -m tests [pytest args]`: ruff, the layer contract, mypy, pytest."""

from __future__ import annotations

import subprocess
import sys

PYTEST_NO_TESTS = 5


def main(pytest_args: list[str]) -> int:
    """Run every check in order; stop at the first failure and return its exit code."""
    checks = [
        ["ruff", "format", "--check", "."],
        ["ruff", "check", "."],
        ["lint-imports"],
        ["mypy"],
        [sys.executable, "-m", "pytest", *pytest_args],
    ]
    for cmd in checks:
        print("$", " ".join(cmd), flush=True)
        code = subprocess.call(cmd)
        if code == PYTEST_NO_TESTS and "pytest" in cmd:
            print("pytest collected no tests: that is a failure here", file=sys.stderr)
            return 1
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
