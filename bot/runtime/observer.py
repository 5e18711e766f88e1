"""Hooks the runtime calls as runs progress; metrics implement them, tests may count them."""

from __future__ import annotations


class Observer:
    """No-op base: override what you want to observe."""

    def run_finished(self, function_id: str, status: str) -> None:
        """A run ended as completed or failed, or was rescheduled (retrying, sleeping)."""

    def step_finished(self, function_id: str, ok: bool, duration_s: float) -> None:
        """A step ran, successfully or not, taking `duration_s`."""

    def retried(self, function_id: str) -> None:
        """A run was scheduled for another attempt."""
