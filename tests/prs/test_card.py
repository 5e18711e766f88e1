"""The PR card, pure: what it shows for each state, reviewers' verdicts, CI, and its limits."""

from __future__ import annotations

from bot.discord import OutMessage
from bot.github.checks import Check
from bot.github.payloads import PullRequestEvent, Subject, User, subject_of_pr
from bot.ops.fixtures import load_delivery, scenarios_dir
from bot.prs import card
from bot.prs.card import Facts

URL = "https://github.com/o/r/pull/80"


def facts(**fields: object) -> Facts:
    """Return facts of a small open PR, fields overridden."""
    base: dict[str, object] = {"repo": "o/r", "number": 80, "title": "Fix it", "url": URL,
                               "author": "octocat", "draft": False}  # fmt: skip
    return Facts.model_validate(base | fields)


def fields_of(message: OutMessage) -> dict[str, str]:
    """Return the card's fields by name."""
    return {f.name: f.value for f in message.embeds[0].fields}


def check(name: str, outcome: str, order: int = 1, kind: str = "check") -> Check:
    """Return a check."""
    url = f"https://ci.test/{name}/{order}"
    return Check.model_validate(
        {"kind": kind, "name": name, "outcome": outcome, "url": url, "order": order}
    )


def test_the_intro_is_the_card_a_pull_request_delivery_would_make() -> None:
    """A thread's first message and the card from the same `opened` are the same: no edit."""
    opened = load_delivery(scenarios_dir() / "changes-requested" / "01-opened.json").payload()
    event = PullRequestEvent.model_validate(opened)
    subject = subject_of_pr(event.repository, event.pull_request)
    noted = Facts.of_subject(subject).with_pull_request(event.pull_request)
    assert card.digest(card.render(noted, [])) == card.digest(card.intro(subject))
    shown = fields_of(card.intro(subject))
    assert shown["Size"] == "+12 −3 in 2 files"
    assert shown["Reviewers"] == "⏳ **hubot** review requested"


def test_state_follows_merge_close_draft_and_verdicts() -> None:
    assert facts().status == "open"
    assert facts(draft=True, verdicts={"a": "approved"}).status == "draft"
    assert facts(verdicts={"a": "approved"}).status == "approved"
    assert facts(verdicts={"a": "approved", "b": "changes_requested"}).status == "changes_requested"
    assert facts(state="closed", verdicts={"a": "approved"}).status == "closed"
    assert facts(state="closed", merged=True).status == "merged"
    words = [fields_of(card.render(f, []))["Status"] for f in
             (facts(), facts(state="closed", merged=True), facts(state="closed"))]  # fmt: skip
    assert words == ["Open", "Merged", "Closed"]
    colors = {card.render(facts(merged=True, state="closed"), []).embeds[0].color,
              card.render(facts(), []).embeds[0].color}  # fmt: skip
    assert len(colors) == 2


def test_a_comment_review_never_hides_a_verdict_and_a_dismissal_clears_it() -> None:
    f = facts().with_review("hubot", "APPROVED").with_review("hubot", "commented")
    assert f.verdicts == {"hubot": "approved"}
    f = f.with_review("hubot", "dismissed")
    assert f.verdicts == {"hubot": "dismissed"} and f.status == "open"
    f = f.with_review("hubot", "commented")
    assert f.verdicts == {"hubot": "commented"}
    rest = [("a", "COMMENTED"), ("a", "CHANGES_REQUESTED"), ("a", "COMMENTED"), ("b", "PENDING")]
    assert card.verdicts_of(rest) == {"a": "changes_requested"}


def test_reviewers_asked_come_first_with_what_they_said_before() -> None:
    lines = card.reviewer_lines(("alice", "@o/docs"), {"alice": "approved", "bob": "commented"})
    assert lines == [
        "⏳ **alice** review requested again (was approved)",
        "⏳ **@o/docs** review requested",
        "💬 **bob** commented",
    ]


def test_ci_counts_and_names_the_failing_checks_with_links() -> None:
    checks = [
        check("build", "passed"),
        check("lint", "failed"),
        check("e2e", "pending"),
        check("docs/build", "failed", kind="status"),
        check("cancelled", "neutral"),
    ]
    text = fields_of(card.render(facts(), checks))["Checks"]
    assert text.splitlines()[0] == "❌ 2 failed · ⏳ 1 pending · ✅ 1 passed · ⚪ 1 neutral"
    assert text.splitlines()[1] == (
        "Failing: [lint](<https://ci.test/lint/1>), [docs/build](<https://ci.test/docs/build/1>)"
    )
    assert "Checks" not in fields_of(card.render(facts(), []))


def test_a_later_report_of_a_check_replaces_the_earlier_one() -> None:
    failed, rerun_passed = check("lint", "failed", 1), check("lint", "passed", 2)
    late_start = Check(kind="check", name="lint", outcome="pending", order=2, done=False)
    assert card.latest([failed, rerun_passed]) == [rerun_passed]
    assert card.latest([rerun_passed, failed]) == [rerun_passed]
    assert card.latest([rerun_passed, late_start]) == [rerun_passed]  # "completed" stays
    assert card.latest([late_start, rerun_passed]) == [rerun_passed]
    status = check("lint", "failed", 1, kind="status")  # a status is not the check run
    assert len(card.latest([rerun_passed, status])) == 2


def test_the_card_fits_discords_limits() -> None:
    many = [check(f"job-{i}-" + "x" * 80, "failed", i) for i in range(40)]
    huge = facts(
        title="T" * 400,
        body="y " * 9000,
        labels=tuple("l" * 60 for _ in range(30)),
        requested=tuple(f"user{i}" for i in range(90)),
        base="main",
        head="o:f",
    )
    (embed,) = card.render(huge, many).embeds
    assert embed.title is not None and len(embed.title) <= 256
    assert all(len(f.value) <= 1024 for f in embed.fields)
    total = len(embed.title) + len(embed.description or "") + len(embed.author or "")
    total += sum(len(f.name) + len(f.value) for f in embed.fields)
    assert total <= 6000
    shown = fields_of(card.render(facts(), many))["Checks"]
    assert shown.endswith(" more") and shown.count("](<") == shown.count(">)")  # whole links
    few = [check(f"job-{i}", "failed", i) for i in range(12)]
    assert fields_of(card.render(facts(), few))["Checks"].endswith("and 2 more")


def test_names_cannot_break_the_markdown_or_ping() -> None:
    evil = check("x](https://evil.test) @everyone", "failed")
    message = card.check_failed(evil, "a" * 40)
    assert message.mention_users == ()
    assert "](https://evil.test)" not in message.content
    assert message.content.endswith("failed on `aaaaaaa`")


def test_a_subject_from_a_comment_keeps_what_a_pr_delivery_said() -> None:
    full = facts(base="main", head="o:f", size=(1, 2, 3), labels=("bug",), requested=("a",))
    from_comment = Subject(repo="o/r", number=80, title="Fix it now", url=URL,
                           author=User(login="octocat"))  # fmt: skip
    merged = full.with_subject(from_comment)
    assert (merged.title, merged.size, merged.base) == ("Fix it now", (1, 2, 3), "main")
    assert merged.labels == () and merged.requested == ()  # what a payload lists is current
