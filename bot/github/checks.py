"""CI on a commit, read from `check_run`, `check_suite`, `status` and `workflow_run` deliveries
and from the checks and statuses APIs, as one kind of item: a named check and how it went.

https://docs.github.com/en/webhooks/webhook-events-and-payloads#check_run (and #check_suite,
#status, #workflow_run): the check and workflow payloads list `pull_requests`, which is empty
for a PR from a fork; `status` names no PR at all. So a delivery is tied to PRs by its commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.github.payloads import Repository
from bot.github.shapes import CheckRun, CombinedStatus
from bot.runtime import Event

Outcome = Literal["passed", "failed", "pending", "neutral"]

CI_EVENTS = ("check_run", "check_suite", "status", "workflow_run")
# https://docs.github.com/en/rest/checks/runs: conclusions. A failing check is a failure or a
# timeout (and a workflow that could not start); cancelled and action_required fail nothing.
FAILED_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})
PASSED_CONCLUSIONS = frozenset({"success", "neutral", "skipped"})
FAILED_STATES = frozenset({"failure", "error"})


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Check(_Model):
    """One check of a commit: a check run (by name) or a commit status (by context)."""

    kind: Literal["check", "status"]
    name: str
    outcome: Outcome
    url: str | None = None
    order: int = 0  # the check run's or status's id: a later one of the same name wins
    done: bool = True  # a check run that completed (a late "in progress" never undoes it)

    @property
    def key(self) -> str:
        """Return what identifies it on its commit: `check:<name>` or `status:<context>`."""
        return f"{self.kind}:{self.name}"

    def supersedes(self, other: Check) -> bool:
        """Tell whether this report replaces `other` (same key): newer, or the same one done."""
        if self.order != other.order:
            return self.order > other.order
        return self.done or not other.done


def check_run_outcome(status: str, conclusion: str | None) -> Outcome:
    """Return how a check run went from its status and conclusion."""
    if status != "completed":
        return "pending"
    if conclusion in FAILED_CONCLUSIONS:
        return "failed"
    return "passed" if conclusion in PASSED_CONCLUSIONS else "neutral"


def status_outcome(state: str) -> Outcome:
    """Return how a commit status went (`success`, `failure`, `error`, `pending`)."""
    if state in FAILED_STATES:
        return "failed"
    return "passed" if state == "success" else "pending"


class _PrNumber(_Model):
    number: int


class _Run(_Model):
    id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None = None
    html_url: str | None = None
    details_url: str | None = None
    pull_requests: list[_PrNumber] = []


class _Suite(_Model):
    head_sha: str
    pull_requests: list[_PrNumber] = []


class _CheckRunEvent(_Model):
    check_run: _Run
    repository: Repository


class _SuiteEvent(_Model):
    check_suite: _Suite
    repository: Repository


class _WorkflowEvent(_Model):
    workflow_run: _Suite
    repository: Repository


class _StatusEvent(_Model):
    id: int
    sha: str
    state: str
    context: str
    target_url: str | None = None
    repository: Repository


class CiDelivery(_Model):
    """What a CI delivery says: the commit, the PRs it names, and a check when it reports one."""

    repo: str
    sha: str
    prs: tuple[int, ...] = ()
    check: Check | None = None  # suites and workflow runs only say "look again"


def ci_of(event_name: str, data: Mapping[str, Any]) -> CiDelivery | None:
    """Read a `github/check_run.*`, `check_suite.*`, `status` or `workflow_run.*` event."""
    kind = event_name.removeprefix("github/").split(".")[0]
    try:
        if kind == "check_run":
            run = _CheckRunEvent.model_validate(data)
            r = run.check_run
            outcome = check_run_outcome(r.status, r.conclusion)
            check = Check(kind="check", name=r.name, outcome=outcome,
                          url=r.html_url or r.details_url, order=r.id,
                          done=r.status == "completed")  # fmt: skip
            prs = tuple(p.number for p in r.pull_requests)
            return CiDelivery(repo=run.repository.full_name, sha=r.head_sha, prs=prs, check=check)
        if kind == "status":
            st = _StatusEvent.model_validate(data)
            check = Check(kind="status", name=st.context, outcome=status_outcome(st.state),
                          url=st.target_url, order=st.id)  # fmt: skip
            return CiDelivery(repo=st.repository.full_name, sha=st.sha, check=check)
        if kind in ("check_suite", "workflow_run"):
            model = _SuiteEvent if kind == "check_suite" else _WorkflowEvent
            parsed = model.model_validate(data)
            suite = parsed.check_suite if isinstance(parsed, _SuiteEvent) else parsed.workflow_run
            prs = tuple(p.number for p in suite.pull_requests)
            return CiDelivery(repo=parsed.repository.full_name, sha=suite.head_sha, prs=prs)
    except ValidationError:
        return None
    return None


def commit_key(event: Event) -> str | None:
    """Return the concurrency key of a CI event: `ci:<owner>/<repo>@<sha>`."""
    found = ci_of(event.name, event.data)
    return None if found is None else f"ci:{found.repo}@{found.sha}"


def checks_of_api(runs: list[CheckRun], combined: CombinedStatus) -> list[Check]:
    """Return the checks the API reports for a commit: its check runs and commit statuses.

    The combined status says `pending` when there are no statuses at all (`total_count` 0,
    normal for Actions-only repositories): only the statuses listed count, never that state.
    """
    found = [
        Check(kind="check", name=r.name, outcome=check_run_outcome(r.status, r.conclusion),
              url=r.html_url or r.details_url, order=r.id, done=r.status == "completed")
        for r in runs
    ]  # fmt: skip
    found += [
        Check(kind="status", name=s.context, outcome=status_outcome(s.state), url=s.target_url)
        for s in combined.statuses
    ]
    return found
