"""Tests of deployment and operation: container files, `prbot check`, shutdown, logs."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
