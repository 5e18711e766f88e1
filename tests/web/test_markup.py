"""Discord markdown to HTML: user text is escaped first, then only known markup is added."""

from __future__ import annotations

from bot.web.markup import markdown


def test_user_text_cannot_inject_markup() -> None:
    html = markdown('<script>alert(1)</script> <img src=x onerror="y"> & "q"')
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and "&amp;" in html and "&#x27;" not in html


def test_links_stay_inside_their_attribute() -> None:
    html = markdown(
        '[review](https://github.com/o/r/pull/1#x"onmouseover=alert(1)) <https://e.org/a?b=1&c=2>'
    )
    assert '<a href="https://github.com/o/r/pull/1#x&quot;onmouseover=alert(1" rel=' in html
    assert '<a href="https://e.org/a?b=1&amp;c=2" rel="noopener noreferrer">' in html
    assert "<a" not in markdown("[x](javascript:alert(1))")  # only http(s) links become links
    assert '<a href="https://e.org/p" rel="noopener noreferrer">the PR</a>' in markdown(
        "[the PR](<https://e.org/p>)"
    )


def test_code_bold_italics_headings_quotes_and_mentions() -> None:
    text = (
        "## What\n**bold** *it* __u__ ~~s~~ `a*b*c`\n"
        "```py\nx = 1 * 2 * 3\n```\n> quoted\n- item <@123>"
    )
    html = str(markdown(text))
    assert '<div class="md-h2">What</div><strong>bold</strong>' in html
    assert "<em>it</em> <u>u</u> <s>s</s> <code>a*b*c</code>" in html  # no markup inside code
    assert "<pre><code>x = 1 * 2 * 3</code></pre><blockquote>quoted</blockquote>" in html
    assert '• item <span class="mention">@123</span>' in html
