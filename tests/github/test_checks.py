"""CI deliveries and API answers read as checks: real payloads, forks, the pending quirk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.github.checks import check_run_outcome, checks_of_api, ci_of, commit_key, status_outcome
from bot.github.shapes import CheckRun, CombinedStatus
from bot.runtime import Event

# Real payloads (octokit/webhooks examples, MIT), kept in the repository.
EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "examples"


def example(path: str) -> dict[str, Any]:
    """Return a recorded octokit example payload."""
    data = json.loads((EXAMPLES / path).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_a_check_run_names_its_commit_its_prs_and_how_it_went() -> None:
    found = ci_of("github/check_run.completed", example("check_run/completed.1.json"))
    assert found is not None and found.check is not None
    assert (found.repo, found.sha) == (
        "Codertocat/Hello-World",
        "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
    )
    assert found.prs == (2,)
    assert (found.check.key, found.check.outcome) == ("check:Octocoders-linter", "failed")
    assert found.check.url == "https://github.com/Codertocat/Hello-World/runs/128620228"
    assert found.check.order == 128620228 and found.check.done


def test_a_status_has_no_pr_and_a_suite_or_workflow_only_a_commit() -> None:
    status = ci_of("github/status", example("status/event.1.json"))
    assert status is not None and status.check is not None and status.prs == ()
    assert (status.check.key, status.check.outcome) == ("status:default", "passed")
    suite = ci_of("github/check_suite.completed", example("check_suite/completed.1.json"))
    assert suite is not None and suite.check is None and suite.prs == (2,)
    workflow = ci_of("github/workflow_run.completed", example("workflow_run/completed.1.json"))
    assert workflow is not None and workflow.check is None and workflow.prs == ()
    assert workflow.sha == "5779607b49aab1200488439f02372c57b4f75444"


def test_every_recorded_ci_example_is_read() -> None:
    for kind in ("check_run", "check_suite", "status", "workflow_run"):
        paths = sorted((EXAMPLES / kind).glob("*.json"))
        assert paths, kind  # the examples are in the repository: never an empty loop
        for path in paths:
            data = json.loads(path.read_text(encoding="utf-8"))
            action = data.get("action")
            name = f"github/{kind}.{action}" if action else f"github/{kind}"
            found = ci_of(name, data)
            assert found is not None, path
            assert commit_key(Event(name=name, data=data)) == f"ci:{found.repo}@{found.sha}"


def test_what_is_not_ci_has_no_commit_key() -> None:
    assert commit_key(Event(name="github/status", data={"sha": "x"})) is None
    assert ci_of("github/push", {}) is None


@pytest.mark.parametrize(
    ("status", "conclusion", "outcome"),
    [
        ("queued", None, "pending"),
        ("in_progress", None, "pending"),
        ("completed", "success", "passed"),
        ("completed", "skipped", "passed"),
        ("completed", "failure", "failed"),
        ("completed", "timed_out", "failed"),
        ("completed", "cancelled", "neutral"),
        ("completed", "action_required", "neutral"),
    ],
)
def test_check_run_outcomes(status: str, conclusion: str | None, outcome: str) -> None:
    assert check_run_outcome(status, conclusion) == outcome


def test_status_outcomes() -> None:
    got = [status_outcome(s) for s in ("success", "failure", "error", "pending")]
    assert got == ["passed", "failed", "failed", "pending"]


def test_a_combined_pending_without_statuses_is_no_check_at_all() -> None:
    """GitHub says `pending` when a commit has no statuses (Actions-only repositories)."""
    runs = [CheckRun(id=1, name="build", status="completed", conclusion="success")]
    none = CombinedStatus(state="pending", sha="a" * 40, total_count=0, statuses=[])
    assert [(c.key, c.outcome) for c in checks_of_api(runs, none)] == [("check:build", "passed")]
    listed = CombinedStatus.model_validate(
        {"state": "failure", "sha": "a" * 40, "total_count": 1,
         "statuses": [{"context": "ci/legacy", "state": "error", "target_url": "https://x.test"}]}
    )  # fmt: skip
    found = [(c.key, c.outcome) for c in checks_of_api(runs, listed)]
    assert found == [("check:build", "passed"), ("status:ci/legacy", "failed")]
