"""What `/pr status` says about a PR, from what the store knows of it; pure text, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from bot.prs.mapping import ThreadRecord

VERDICT_TEXT = {
    "approved": "✅ approved",
    "changes_requested": "❌ changes requested",
    "commented": "💬 commented",
}
STATE_TEXT = {"open": "🟢 open", "draft": "📝 draft", "merged": "🟣 merged", "closed": "🔴 closed"}
NO_FAILING = "none failing that prbot has seen"
FAILING = "❌ failing: the card at the top of the thread names the failing checks"


@dataclass(frozen=True)
class PrStatus:
    """What the store holds about a PR: its thread record and the extra fields."""

    pr: str  # owner/repo#number
    web_base: str  # https://github.com, or a GitHub Enterprise host
    record: ThreadRecord
    verdicts: str | None  # reviewer=verdict,… as the reviews function stores them
    checks: str | None  # "1" while a check fails (the live card's flag), else empty


def parse_verdicts(stored: str | None) -> dict[str, str]:
    """Return reviewer -> verdict from the stored `reviewer=verdict,…` field."""
    pairs = (p.split("=", 1) for p in (stored or "").split(",") if "=" in p)
    return {reviewer: verdict for reviewer, verdict in pairs}


def pr_url(web_base: str, pr: str) -> str:
    """Return the PR's page on GitHub."""
    repo, _, number = pr.rpartition("#")
    return f"{web_base.rstrip('/')}/{repo}/pull/{number}"


def status_text(status: PrStatus) -> str:
    """Return the status message: state, title, reviewers and verdicts, checks."""
    record = status.record
    title = record.title or record.name
    lines = [f"**[{status.pr}](<{pr_url(status.web_base, status.pr)}>)** {title}".rstrip()]
    lines.append(f"State: {STATE_TEXT.get(record.state, record.state)}")
    verdicts = parse_verdicts(status.verdicts)
    if verdicts:
        shown = ", ".join(f"{who} {VERDICT_TEXT.get(v, v)}" for who, v in sorted(verdicts.items()))
        lines.append(f"Reviewers: {shown}")
    else:
        lines.append("Reviewers: no reviews yet")
    lines.append(f"Checks: {FAILING if status.checks == '1' else NO_FAILING}")
    return "\n".join(lines)
