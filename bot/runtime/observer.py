"""Hooks the runtime calls as runs progress; metrics implement them, tests may count them."""

from __future__ import annotations


class Observer:
    """No-op base: override what you want to observe."""

    def run_finished(self, function_id: str, status: str) -> None:
        """A run ended or stepped aside, `status` saying how.

        Ended: completed, failed, cancelled (once per run, wherever it was cancelled). Stepped
        aside: retrying, sleeping, waiting (parked for an event).
        """

    def step_finished(self, function_id: str, ok: bool, duration_s: float) -> None:
        """A step ran, successfully or not, taking `duration_s`."""

    def retried(self, function_id: str) -> None:
        """A run was scheduled for another attempt."""
