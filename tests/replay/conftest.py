"""Options for the replay tests."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add `--update-golden`: rewrite the scenarios' transcript.txt from what replay prints now."""
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite fixtures/scenarios/*/transcript.txt when behaviour changed on purpose",
    )
