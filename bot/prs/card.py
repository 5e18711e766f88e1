"""The live PR card: what prbot knows of a PR, and the embed its thread's first message shows.

The card is the thread's intro, edited in place as the PR changes: title, state, reviewers and
their latest verdicts, labels, branches, size and CI. Pure: no I/O. `Facts` are what the
webhooks said (or the API, when prbot has it); `render` turns them and the head commit's checks
into the embed, within Discord's limits (see `bot.prs.render`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict

from pydantic import BaseModel, ConfigDict

from bot.discord import EmbedField, EmbedSpec, OutMessage
from bot.github.checks import Check
from bot.github.payloads import PullRequest, Subject
from bot.prs.render import (
    DESCRIPTION_MAX,
    EMBED_TOTAL_MAX,
    FIELD_VALUE_MAX,
    TITLE_MAX,
    body_text,
    clean,
    clip,
    clip_markdown,
    safe_url,
)

# Embed colours per state (GitHub's own).
COLORS = {
    "open": 0x2EA043,
    "draft": 0x8B949E,
    "approved": 0x1F883D,
    "changes_requested": 0xBF8700,
    "merged": 0x8250DF,
    "closed": 0xCF222E,
}
STATE_WORDS = {
    "open": "Open",
    "draft": "Draft",
    "approved": "Approved",
    "changes_requested": "Changes requested",
    "merged": "Merged",
    "closed": "Closed",
}
VERDICTS = ("approved", "changes_requested", "dismissed")
_VERDICT_LINES = {
    "approved": ("✅", "approved"),
    "changes_requested": ("🔁", "requested changes"),
    "commented": ("💬", "commented"),
    "dismissed": ("🚫", "review dismissed"),
}
CHECKS_SHOWN = 10
# The description shows at most DESCRIPTION_MAX characters: keep a little more, not 65,536.
BODY_KEPT = DESCRIPTION_MAX + 1000


class Facts(BaseModel):
    """What the card shows of a PR, merged from every delivery (or read from the API)."""

    model_config = ConfigDict(frozen=True)

    repo: str
    number: int
    title: str
    url: str
    author: str
    body: str | None = None
    labels: tuple[str, ...] = ()
    draft: bool | None = None
    state: str = "open"  # GitHub's: open or closed
    merged: bool = False
    base: str | None = None
    head: str | None = None
    head_sha: str | None = None
    size: tuple[int, int, int] | None = None
    requested: tuple[str, ...] = ()
    verdicts: dict[str, str] = {}  # reviewer -> approved, changes_requested, commented, dismissed
    installation_id: int | None = None

    @classmethod
    def of_subject(cls, subject: Subject) -> Facts:
        """Return the facts a thread's subject gives (what its intro shows)."""
        return cls(repo=subject.repo, number=subject.number, **_subject_fields(subject))

    def with_subject(self, subject: Subject) -> Facts:
        """Return these facts updated by a newer subject; what it does not know is kept."""
        fields = _subject_fields(subject)
        # A review payload leaves out draft and size; the lists it has are current.
        kept = {k: v for k, v in fields.items() if v is not None}
        return self.model_copy(update=kept)

    def with_pull_request(self, pr: PullRequest) -> Facts:
        """Return these facts with the state and head commit of a `pull_request` payload."""
        return self.model_copy(
            update={"state": pr.state, "merged": bool(pr.merged), "head_sha": pr.head.sha}
        )

    def with_review(self, reviewer: str, state: str) -> Facts:
        """Return these facts with a reviewer's review (a comment never hides a verdict)."""
        verdicts = dict(self.verdicts)
        verdicts[reviewer] = merge_verdict(verdicts.get(reviewer), state.lower())
        return self.model_copy(update={"verdicts": verdicts})

    @property
    def status(self) -> str:
        """Return the card's state: merged, closed, draft, changes requested, approved, open."""
        if self.merged:
            return "merged"
        if self.state == "closed":
            return "closed"
        if self.draft:
            return "draft"
        values = set(self.verdicts.values())
        return next((v for v in ("changes_requested", "approved") if v in values), "open")


def _subject_fields(subject: Subject) -> dict[str, object]:
    return {
        "title": subject.title,
        "url": subject.url,
        "author": subject.author.login,
        "body": kept_body(subject.body),
        "labels": subject.labels,
        "draft": subject.draft,
        "base": subject.base,
        "head": subject.head,
        "size": subject.size,
        "requested": subject.requested,
    }


def kept_body(body: str | None) -> str | None:
    """Return the part of a PR body the card may show (its template comments dropped)."""
    return None if body is None else body_text(body)[:BODY_KEPT]


def merge_verdict(previous: str | None, state: str) -> str:
    """Return a reviewer's latest verdict after a review in `state` (lower case)."""
    if state == "commented" and previous in VERDICTS[:2]:
        return previous
    return state


def verdicts_of(reviews: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Return each reviewer's latest verdict from (reviewer, state) oldest first (REST states)."""
    verdicts: dict[str, str] = {}
    for reviewer, state in reviews:
        if state.lower() != "pending":
            verdicts[reviewer] = merge_verdict(verdicts.get(reviewer), state.lower())
    return verdicts


def latest(checks: Iterable[Check]) -> list[Check]:
    """Return one check per key (the one that supersedes the others), by name."""
    kept: dict[str, Check] = {}
    for check in checks:
        old = kept.get(check.key)
        if old is None or check.supersedes(old):
            kept[check.key] = check
    return sorted(kept.values(), key=lambda c: (c.name.casefold(), c.kind))


def failing(checks: Sequence[Check]) -> list[Check]:
    """Return the failed checks."""
    return [c for c in checks if c.outcome == "failed"]


def intro(subject: Subject) -> OutMessage:
    """Return the first message of a thread: the card as the subject alone tells it."""
    return render(Facts.of_subject(subject), [])


def render(facts: Facts, checks: Sequence[Check]) -> OutMessage:
    """Return the card: the PR as an embed with its description, state, people, size and CI."""
    title = clip(f"#{facts.number} {clean(facts.title)}", TITLE_MAX)
    fields = _fields(facts, checks)
    used = len(title) + len(facts.author) + sum(len(f.name) + len(f.value) for f in fields)
    room = min(DESCRIPTION_MAX, EMBED_TOTAL_MAX - used)
    description = clip_markdown(body_text(facts.body), room, facts.url) or None
    status = facts.status
    embed = EmbedSpec(
        title, safe_url(facts.url), description, facts.author, tuple(fields), COLORS[status]
    )
    return OutMessage("", (embed,))


def _fields(facts: Facts, checks: Sequence[Check]) -> list[EmbedField]:
    fields: list[EmbedField] = []
    if facts.base and facts.head:
        fields.append(_field("Branches", f"`{facts.base}` ← `{facts.head}`", inline=True))
    if facts.labels:
        fields.append(_field("Labels", ", ".join(facts.labels), inline=True))
    if facts.draft is not None or facts.merged or facts.state == "closed":
        fields.append(_field("Status", STATE_WORDS[facts.status], inline=True))
    if facts.size is not None:
        added, deleted, files = facts.size
        fields.append(_field("Size", f"+{added} −{deleted} in {_count(files, 'file')}", True))
    reviewers = reviewer_lines(facts.requested, facts.verdicts)
    if reviewers:
        fields.append(_field("Reviewers", "\n".join(reviewers)))
    if checks:
        fields.append(_field("Checks", ci_summary(checks)))
    return fields


def _field(name: str, value: str, inline: bool = False) -> EmbedField:
    return EmbedField(name, clip(value, FIELD_VALUE_MAX), inline)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def reviewer_lines(requested: Sequence[str], verdicts: dict[str, str]) -> list[str]:
    """Return one line per reviewer: asked ones first, each with their latest verdict."""
    lines = []
    for who in requested:
        again = f" again (was {_VERDICT_LINES[verdicts[who]][1]})" if who in verdicts else ""
        lines.append(f"⏳ **{clean(who)}** review requested{again}")
    for who in sorted(set(verdicts) - set(requested), key=str.casefold):
        emoji, words = _VERDICT_LINES.get(verdicts[who], ("💬", "reviewed"))
        lines.append(f"{emoji} **{clean(who)}** {words}")
    return lines


def ci_summary(checks: Sequence[Check]) -> str:
    """Return the CI line: counts, then the failing checks by name with their links."""
    counts = {o: sum(1 for c in checks if c.outcome == o) for o in ("failed", "pending", "passed")}
    parts = [f"❌ {counts['failed']} failed"] if counts["failed"] else []
    parts += [f"⏳ {counts['pending']} pending"] if counts["pending"] else []
    parts += [f"✅ {counts['passed']} passed"] if counts["passed"] else []
    neutral = len(checks) - sum(counts.values())
    parts += [f"⚪ {neutral} neutral"] if neutral else []
    text = " · ".join(parts)
    failed = failing(checks)
    if failed:
        # Whole links only, within the field's limit (a cut link would show its Markdown).
        room = FIELD_VALUE_MAX - len(text) - len("\nFailing: ") - len(" and 999 more")
        names: list[str] = []
        for c in failed[:CHECKS_SHOWN]:
            link = check_link(c)
            if sum(len(n) + 2 for n in names) + len(link) > room:
                break
            names.append(link)
        more = f" and {len(failed) - len(names)} more" if len(failed) > len(names) else ""
        text += "\nFailing: " + ", ".join(names) + more
    return text


def check_link(check: Check) -> str:
    """Return a check's name, linked to its page when the URL is one Discord takes."""
    name = clean(check.name).replace("[", "(").replace("]", ")")
    url = safe_url(check.url, 512)
    return f"[{name}](<{url}>)" if url else f"**{name}**"


def check_failed(check: Check, sha: str) -> OutMessage:
    """Return the message for a failing check on the PR's head commit."""
    what = "check" if check.kind == "check" else "status"
    text = f"❌ {what} {check_link(check)} failed on `{sha[:7]}`"
    return OutMessage(clip(text, 2000))


def digest(message: OutMessage) -> str:
    """Return a short fingerprint of a message, to tell whether the card changed."""
    text = json.dumps(asdict(message), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:20]
