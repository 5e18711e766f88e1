"""The `prbot` command line (placeholder until the commands land)."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    """Run the prbot command line."""
    return 0
