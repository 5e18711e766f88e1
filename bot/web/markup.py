"""Discord's markdown, the part prbot's messages use, turned into safe HTML.

Everything is escaped first; only then are code blocks, inline code, bold, italics, strikethrough,
headings, quotes and links added, so user text can never inject markup.
"""

from __future__ import annotations

import re
from html import escape

from markupsafe import Markup

_FENCE = re.compile(r"```(?:[\w+-]*\n)?(.*?)```", re.S)
_CODE = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[([^\]\n]+)\]\((?:&lt;)?(https?://[^\s)]+?)(?:&gt;)?\)")
_BARE = re.compile(r"&lt;(https?://[^\s]+?)&gt;|(?<![\"=])(https?://[^\s<]+)")
_INLINE = [
    (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"__(.+?)__"), r"<u>\1</u>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"<em>\1</em>"),
    (re.compile(r"(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)"), r"<em>\1</em>"),
    (re.compile(r"~~(.+?)~~"), r"<s>\1</s>"),
]
_HEADING = re.compile(r"^(#{1,3}) (.+)$")
_MENTION = re.compile(r"&lt;@!?(\d+)&gt;")
_PLACEHOLDER = "\x00{}\x00"
_AFTER_BLOCK = re.compile(r"(</pre>|</blockquote>|</div>)<br>")  # blocks end their own line


def _link(match: re.Match[str]) -> str:
    return f'<a href="{match.group(2)}" rel="noopener noreferrer">{match.group(1)}</a>'


def _bare(match: re.Match[str]) -> str:
    url = match.group(1) or match.group(2)
    return f'<a href="{url}" rel="noopener noreferrer">{url}</a>'


def _line(line: str) -> str:
    quote = line.startswith("&gt; ")
    if quote:
        line = line[5:]
    heading = _HEADING.match(line)
    if heading:
        level = len(heading.group(1))
        line = f'<div class="md-h{level}">{heading.group(2)}</div>'
    if line.startswith(("- ", "* ")):
        line = "• " + line[2:]
    return f"<blockquote>{line}</blockquote>" if quote else line


def markdown(text: str) -> Markup:
    """Return `text` (Discord markdown) as HTML safe to put in a page."""
    kept: list[str] = []

    def keep(html: str) -> str:
        kept.append(html)
        return _PLACEHOLDER.format(len(kept) - 1)

    out = escape(text, quote=True)
    out = _FENCE.sub(lambda m: keep(f"<pre><code>{m.group(1).rstrip()}</code></pre>"), out)
    out = _CODE.sub(lambda m: keep(f"<code>{m.group(1)}</code>"), out)
    out = _MENTION.sub(lambda m: keep(f'<span class="mention">@{m.group(1)}</span>'), out)
    out = _LINK.sub(lambda m: keep(_link(m)), out)
    out = _BARE.sub(lambda m: keep(_bare(m)), out)
    for pattern, replacement in _INLINE:
        out = pattern.sub(replacement, out)
    out = "<br>".join(_line(line) for line in out.split("\n"))
    for i, html in enumerate(kept):
        out = out.replace(_PLACEHOLDER.format(i), html)
    return Markup(_AFTER_BLOCK.sub(r"\1", out))
