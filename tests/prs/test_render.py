"""Thread names, prefixes and messages: Discord's limits, clean cuts, no pings from user text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.discord import OutMessage
from bot.github.payloads import Subject, User
from bot.prs import card, render

URL = "https://github.com/o/r/pull/80"


def subject(title: str = "Fix it", body: str | None = "Body", **kw: object) -> Subject:
    """Return a PR subject for o/r#80."""
    data: dict[str, object] = {
        "repo": "o/hello-world",
        "number": 80,
        "title": title,
        "url": URL,
        "author": User(login="octocat"),
        "body": body,
    }
    data.update(kw)
    return Subject.model_validate(data)


def test_default_name_is_number_and_title() -> None:
    assert render.thread_name("#{number} {title}", "o/r", 42, "Add a thing") == "#42 Add a thing"


def test_shared_channel_puts_repo_in_front() -> None:
    template = render.effective_template("#{number} {title}", shared=True)
    assert render.thread_name(template, "o/hello-world", 42, "T") == "hello-world#42 T"
    assert render.effective_template("{repo} {number}", shared=True) == "{repo} {number}"
    assert render.effective_template("#{number} {title}", shared=False) == "#{number} {title}"


def test_name_is_one_line_and_at_most_100_chars_with_an_ellipsis() -> None:
    name = render.thread_name("#{number} {title}", "o/r", 7, "a\nb\t c " + "x" * 300)
    assert len(name) == 100
    assert name.startswith("#7 a b c ")
    assert name.endswith("…")


def test_name_never_empty() -> None:
    assert render.thread_name("{title}", "o/r", 9, " \n ") == "#9"


@given(st.text(max_size=400))
def test_any_title_gives_a_valid_name(title: str) -> None:
    name = render.thread_name("#{number} {title}", "o/r", 80, title)
    assert 1 <= len(name) <= 100
    assert "\n" not in name
    assert render.has_prefix(name, render.thread_prefix("#{number} {title}", "o/r", 80))


def test_prefix_of_80_never_matches_805() -> None:
    prefix = render.thread_prefix("#{number} {title}", "o/r", 80)
    assert prefix == "#80 "
    assert render.has_prefix("#80 Fix", prefix)
    assert not render.has_prefix("#805 Fix", prefix)
    assert not render.has_prefix("#8 Fix", render.thread_prefix("#{number} {title}", "o/r", 80))
    shared = render.thread_prefix("{repo}#{number} {title}", "o/hello-world", 80)
    assert shared == "hello-world#80 "
    assert not render.has_prefix("other#80 Fix", shared)


def test_bad_template_is_rejected() -> None:
    with pytest.raises(ValueError, match="THREAD_NAME_TEMPLATE"):
        render.check_template("#{number} {nope}")
    render.check_template("[{owner}/{repo}] #{number} {title}")


def test_clip_markdown_keeps_short_text() -> None:
    assert render.clip_markdown("  hello  ", 100, URL) == "hello"


def test_clip_markdown_cuts_cleanly_with_a_link() -> None:
    text = "\n\n".join(f"Paragraph {i} " + "word " * 40 for i in range(40))
    out = render.clip_markdown(text, 4096, URL)
    assert len(out) <= 4096
    assert out.endswith(f"[continued on GitHub]({URL})")
    kept = out.split("\n\n… [continued")[0]
    assert kept.endswith("word")  # cut at a paragraph end, not mid-word
    assert text.startswith(kept)


def test_clip_markdown_closes_an_open_code_fence() -> None:
    text = "Intro\n```python\n" + "print('x')\n" * 800 + "```\nafter"
    out = render.clip_markdown(text, 2000, URL)
    assert len(out) <= 2000
    assert out.count("```") % 2 == 0


@given(st.text(max_size=9000), st.integers(min_value=200, max_value=6000))
def test_clip_markdown_never_exceeds_the_limit(text: str, limit: int) -> None:
    assert len(render.clip_markdown(text, limit, URL)) <= limit


def _embed_total(message: OutMessage) -> int:
    total = 0
    for e in message.embeds:
        total += len(e.title or "") + len(e.description or "") + len(e.author or "")
        total += sum(len(f.name) + len(f.value) for f in e.fields) + len(e.footer or "")
    return total


def test_intro_fits_discord_limits_with_a_huge_body() -> None:
    s = subject(title="T" * 400, body="x " * 10_000, labels=("l" * 900, "b"), base="main", head="f")
    message = card.intro(s)
    (embed,) = message.embeds
    assert embed.title is not None and len(embed.title) <= 256
    assert embed.description is not None and len(embed.description) <= 4096
    assert "continued on GitHub" in embed.description
    assert all(len(f.value) <= 1024 for f in embed.fields)
    assert _embed_total(message) <= 6000
    assert embed.url == URL
    assert embed.author == "octocat"


def test_intro_shows_branches_labels_and_draft() -> None:
    message = card.intro(subject(labels=("bug",), draft=True, base="main", head="o:feat"))
    fields = {f.name: f.value for f in message.embeds[0].fields}
    assert fields == {"Branches": "`main` ← `o:feat`", "Labels": "bug", "Status": "Draft"}


def test_intro_drops_template_comments() -> None:
    message = card.intro(subject(body="<!-- fill me -->\nReal text"))
    assert message.embeds[0].description == "Real text"


def test_five_thousand_char_comment_is_cut_not_rejected() -> None:
    message = render.comment("octocat", "y" * 5000, URL)
    description = message.embeds[0].description
    assert description is not None and len(description) <= 4096
    assert description.endswith(f"[continued on GitHub]({URL})")
    assert message.mention_users == ()


def test_review_pings_author_only_on_verdicts() -> None:
    approved = render.review("approved", "rev", "ok", URL, "octocat", 42)
    assert approved.mention_users == (42,)
    assert "<@42>" in approved.content
    commented = render.review("commented", "rev", "hm", URL, "octocat", 42)
    assert commented.mention_users == ()
    assert "<@42>" not in commented.content
    changes = render.review("changes_requested", "rev", None, URL, "octocat", None)
    assert changes.mention_users == ()
    assert "requested changes" in changes.content
    assert changes.embeds == ()


def test_dismissed_is_not_changes_requested() -> None:
    text = render.review_dismissed("rev", "maintainer", URL).content
    assert "dismissed" in text
    assert "changes" not in text


def test_review_request_names_team_or_pings_mapped_user() -> None:
    assert render.review_requested("a", "b", None, 5).mention_users == (5,)
    team = render.review_requested("a", None, "core", None)
    assert "team **core**" in team.content
    assert team.mention_users == ()


def test_content_never_exceeds_2000() -> None:
    assert len(render.failure_alert("f", "r", "e" * 5000).content) <= 2000


def test_lifecycle_words() -> None:
    assert render.closed(True, "a").content == "🟣 Merged by **a**"
    assert render.closed(False, "a").content == "🔴 Closed by **a**"
    assert "3 new commits" in render.new_commits("a", 3, URL).content
    assert "1 new commit " in render.new_commits("a", 1, URL).content
    assert "pushed new commits" in render.new_commits("a", None, URL).content
