"""A small soak in the test suite: real processes, killed workers, a Redis restart; nothing lost."""

from __future__ import annotations

import shutil

import pytest

from benchmarks.audit import posted_after_close
from benchmarks.soak import SoakConfig, soak

SMALL = SoakConfig(
    deliveries=120, prs=8, kills=2, redis_restarts=1, send_s=8.0, deadline_s=80.0, seed=7
)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server binary")
async def test_small_soak_loses_nothing_and_doubles_nothing() -> None:
    result = await soak(SMALL)
    print("\n".join(result.lines()))
    assert result.figures["worker SIGKILLs"] == 2
    assert result.figures["Redis restarts"] == 1
    assert result.audit.ok, "\n".join(result.audit.problems)


def test_the_audit_expects_a_revived_thread_only_after_a_late_message() -> None:
    closed = ["intro", "💬 comment", "🟣 Merged by **monalisa**"]
    assert not posted_after_close(closed)
    assert posted_after_close([*closed, "💬 a late comment"])
    assert not posted_after_close(["intro", "💬 comment"])  # never closed
    reopened = ["intro", "🔴 Closed by **a**", "🟢 Reopened by **a**", "🔴 Closed by **a**"]
    assert not posted_after_close(reopened)
