"""Payload URLs in what prbot says: kept when Discord takes them, left out otherwise; alerts
carry the error's type, never its message."""

from __future__ import annotations

import pytest

from bot.prs import render

GOOD = "https://github.com/octo-org/hello-world/pull/42#pullrequestreview-1"
BAD = [
    "https://github.com/" + "x" * 2100,
    "javascript:alert(1)",
    "data:text/html,<b>hi</b>",
    "//github.com/no-scheme",
    "https://",
    "https://github.com/a b",
    "https://github.com/a>b",
    "https://github.com/a)b",
    "",
]


def test_safe_url_keeps_http_and_https_within_the_limit() -> None:
    assert render.safe_url(GOOD) == GOOD
    assert render.safe_url("http://ghe.example/x") == "http://ghe.example/x"
    at_limit = "https://github.com/" + "x" * (render.URL_MAX - len("https://github.com/"))
    assert render.safe_url(at_limit) == at_limit
    assert render.safe_url(at_limit + "x") is None


@pytest.mark.parametrize("url", BAD)
def test_unsafe_urls_are_left_out_of_embeds_and_links(url: str) -> None:
    assert render.safe_url(url) is None
    comment = render.comment("octocat", "looks good", url)
    assert comment.embeds[0].url is None and comment.embeds[0].description == "looks good"
    review = render.review("approved", "hubot", "ok", url, "octocat", None)
    assert review.content == "✅ **hubot** approved" and review.embeds[0].url is None
    dismissed = render.review_dismissed("hubot", "octocat", url)
    assert dismissed.content == "🚫 Review by **hubot** dismissed by **octocat**"
    long_body = "word " * 2000
    cut = render.comment("octocat", long_body, url).embeds[0].description or ""
    assert cut.endswith("(continued on GitHub)") and "](" not in cut


def test_safe_urls_stay_as_links() -> None:
    review = render.review("approved", "hubot", None, GOOD, "octocat", None)
    assert review.content == f"✅ **hubot** approved ([review](<{GOOD}>))"
    pushed = render.new_commits("octocat", 2, "https://github.com/o/r/pull/1")
    assert pushed.content.endswith("([changes](<https://github.com/o/r/pull/1/files>))")


def test_a_link_too_long_for_the_message_is_left_out_not_cut() -> None:
    url = "https://github.com/" + "x" * 1500  # a valid embed URL, but half the message limit
    assert render.safe_url(url) == url
    review = render.review("approved", "hubot", None, url, "octocat", None)
    assert review.content == "✅ **hubot** approved"


def test_failure_alerts_name_the_error_type_and_never_quote_it() -> None:
    error = "ValidationError: 1 validation error\n  input_value='secret payload text'"
    alert = render.failure_alert("pr-comments", "run1", error)
    assert "secret payload text" not in alert.content and "input_value" not in alert.content
    assert alert.content == (
        "⚠️ prbot run failed: `pr-comments` run `run1` (ValidationError); "
        "details: `prbot runs show run1`"
    )
    odd = render.failure_alert("f", "r", "@everyone <@&1> look: here")
    assert "(error)" in odd.content and "@everyone" not in odd.content
