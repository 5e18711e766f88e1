"""Review reminders and the digest as Discord gets them: mapped reviewers pinged, cut to fit."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from bot.prs import render

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class Entry:
    """A digest entry."""

    repo: str
    number: int
    title: str
    since_ms: int
    reviewers: tuple[str, ...] = ("hubot",)
    teams: tuple[str, ...] = ()
    link: str = "https://discord.com/channels/1/2"


def test_durations_and_ages_read_as_people_say_them() -> None:
    assert [render.duration(s) for s in (90, 1800, 172_800, 5400, 86_400, 0.4)] == [
        "90s", "30m", "2d", "90m", "1d", "0s",
    ]  # fmt: skip
    assert [render.ago(ms) for ms in (-5, 59_999, HOUR_MS, 47 * HOUR_MS, 49 * HOUR_MS)] == [
        "0m", "0m", "1h", "47h", "2d",
    ]  # fmt: skip


def test_a_reminder_pings_only_the_mapped_reviewers() -> None:
    message = render.review_reminder([("hubot", 7), ("octo", None)], ["core"], 7200, 2, 3)
    assert message.content == (
        "⏰ <@7> (**hubot**), **octo**, team **core**: this pull request has waited 2h for a "
        "review (reminder 2 of 3)"
    )
    assert message.mention_users == (7,)


def test_the_digest_groups_by_repository_oldest_first_and_escapes_titles() -> None:
    entries = [
        Entry("o/zeta", 3, "Later", 2 * HOUR_MS),
        Entry("o/alpha", 2, "Newer", 3 * HOUR_MS, (), ("core",)),
        Entry("o/alpha", 1, "Fix [link](https://evil) *now* <@1>", HOUR_MS, ("a", "b")),
    ]
    message = render.digest(entries, 5 * HOUR_MS)
    assert message is not None and message.mention_users == () and message.embeds == ()
    assert message.content.splitlines() == [
        "📋 **3 pull requests waiting for review**, oldest first",
        "**o/alpha**",
        "• [#1 Fix \\[link\\](https://evil) \\*now\\* \\<@1\\>](<https://discord.com/channels/1/2>)"
        " · 4h · a, b",
        "• [#2 Newer](<https://discord.com/channels/1/2>) · 2h · team core",
        "**o/zeta**",
        "• [#3 Later](<https://discord.com/channels/1/2>) · 3h · hubot",
    ]
    assert render.digest([], 0) is None


@given(st.integers(min_value=1, max_value=200), st.text(min_size=0, max_size=300))
def test_the_digest_always_fits_one_message(count: int, title: str) -> None:
    entries = [Entry(f"o/r{n % 7}", n, title, n) for n in range(count)]
    message = render.digest(entries, 10**9)
    assert message is not None and len(message.content) <= render.CONTENT_MAX
    listed = message.content.count("\n• ")
    if listed < count:
        assert message.content.endswith(f"… and {count - listed} more")
