"""What prbot says on Discord: thread names and messages, cut to Discord's limits, no I/O.

Limits: https://discord.com/developers/docs/resources/message#embed-object-embed-limits and
https://discord.com/developers/docs/resources/channel#channel-object (names 1-100 chars).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol
from urllib.parse import urlsplit

from bot.discord import EmbedSpec, OutMessage

NAME_MAX = 100
CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_VALUE_MAX = 1024
EMBED_TOTAL_MAX = 6000
ELLIPSIS = "…"
# Discord refuses (400) an embed URL over 2,048 characters; a link inside `content` must also
# leave room for the words around it within CONTENT_MAX.
URL_MAX = 2048
CONTENT_URL_MAX = 1024


class DigestEntry(Protocol):
    """A PR in the digest: where it is, since when it waits, for whom, and its thread's link."""

    @property
    def repo(self) -> str: ...
    @property
    def number(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def since_ms(self) -> int: ...
    @property
    def reviewers(self) -> Sequence[str]: ...
    @property
    def teams(self) -> Sequence[str]: ...
    @property
    def link(self) -> str: ...


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_SPACES = re.compile(r"\s+")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_FENCE = "```"
# Whitespace, controls and what would end `<url>` or `(url)` in Markdown.
_UNSAFE_IN_URL = re.compile(r"[\s\x00-\x1f\x7f<>()]")


def safe_url(url: str | None, limit: int = URL_MAX) -> str | None:
    """Return `url` when it is an http(s) URL Discord takes (≤ `limit` chars), else None.

    Payload URLs come from whoever can send a signed delivery: anything else is left out.
    """
    if not url or len(url) > limit or _UNSAFE_IN_URL.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def _link(label: str, url: str | None) -> str:
    """Return ` ([label](<url>))` for a safe URL, else nothing."""
    safe = safe_url(url, CONTENT_URL_MAX)
    return f" ([{label}](<{safe}>))" if safe else ""


def clean(text: str) -> str:
    """Return `text` on one line: controls and runs of whitespace become one space."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", text))


def clip(text: str, limit: int) -> str:
    """Cut `text` to `limit` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def effective_template(template: str, shared: bool) -> str:
    """Put the repository name in front when the channel receives several repositories."""
    if shared and "{repo}" not in template and "{full_name}" not in template:
        return "{repo}" + template
    return template


def _format(template: str, repo: str, number: int, title: str) -> str:
    owner, _, name = repo.rpartition("/")
    return template.format(number=number, title=title, repo=name, owner=owner, full_name=repo)


def check_template(template: str) -> None:
    """Raise ValueError when the thread name template uses an unknown placeholder."""
    try:
        _format(template, "owner/repo", 1, "title")
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"bad THREAD_NAME_TEMPLATE {template!r}: {exc!r}") from exc


def thread_name(template: str, repo: str, number: int, title: str) -> str:
    """Return the thread name: the template filled in, one line, 1-100 chars."""
    name = clean(_format(template, repo, number, clean(title))).strip()
    return clip(name, NAME_MAX) or f"#{number}"


def thread_prefix(template: str, repo: str, number: int) -> str:
    """Return the fixed start of this PR's thread names (`#80 `), used to re-adopt a thread."""
    head, found, _ = template.partition("{title}")
    return clean(_format(head if found else template, repo, number, "")).lstrip()


def has_prefix(name: str, prefix: str) -> bool:
    """Tell whether a thread name belongs to the PR of `prefix`: `#80 ` never matches `#805 x`."""
    return name.startswith(prefix) or name == prefix.rstrip()


def clip_markdown(text: str, limit: int, url: str | None) -> str:
    """Cut Markdown cleanly (paragraph, line or word; fences closed) with a link to the rest."""
    text = text.strip()
    if len(text) <= limit:
        return text
    safe = safe_url(url)
    more = f"\n\n{ELLIPSIS} [continued on GitHub]({safe})"
    if safe is None or len(more) > limit // 2:
        more = f"\n\n{ELLIPSIS} (continued on GitHub)"
    budget = max(0, limit - len(more) - len(_FENCE) - 1)
    cut = text[:budget]
    for sep in ("\n\n", "\n", " "):
        at = cut.rfind(sep)
        if at >= budget // 2:
            cut = cut[:at]
            break
    cut = cut.rstrip()
    if cut.count(_FENCE) % 2:
        cut += "\n" + _FENCE
    return cut + more


def body_text(body: str | None) -> str:
    """Return a GitHub body without its HTML comments (PR template hints)."""
    return _HTML_COMMENT.sub("", (body or "").replace("\r\n", "\n")).strip()


def _message(content: str, *embeds: EmbedSpec, ping: int | None = None) -> OutMessage:
    mentions = (ping,) if ping is not None else ()
    return OutMessage(clip(content, CONTENT_MAX), tuple(embeds), mentions)


def _mention(login: str, user_id: int | None) -> str:
    return f"<@{user_id}> (**{login}**)" if user_id is not None else f"**{login}**"


def comment(login: str, body: str | None, url: str, where: str | None = None) -> OutMessage:
    """Return a PR comment (or a review comment on `where`, such as `README.md` line 3)."""
    title = clip(f"💬 {login} commented" + (f" on {where}" if where else ""), TITLE_MAX)
    text = clip_markdown(body_text(body), DESCRIPTION_MAX, url) or None
    return _message("", EmbedSpec(title, safe_url(url), text, login))


def review_location(path: str | None, line: int | None) -> str | None:
    """Return where a review comment sits: `path` line N, or None."""
    if not path:
        return None
    return f"{path} line {line}" if line else path


_REVIEW_WORDS = {
    "approved": ("✅", "approved"),
    "changes_requested": ("🔁", "requested changes"),
    "commented": ("💬", "reviewed"),
}


def review(
    state: str, reviewer: str, body: str | None, url: str, author: str, author_id: int | None
) -> OutMessage:
    """Return a submitted review; the mapped author is pinged on approved / changes requested."""
    emoji, words = _REVIEW_WORDS.get(state, ("💬", "reviewed"))
    ping = author_id if state in ("approved", "changes_requested") else None
    to = f" — {_mention(author, ping)}" if ping is not None else ""
    content = f"{emoji} **{reviewer}** {words}{_link('review', url)}{to}"
    text = clip_markdown(body_text(body), DESCRIPTION_MAX, url)
    embeds = (EmbedSpec(description=text, url=safe_url(url)),) if text else ()
    return _message(content, *embeds, ping=ping)


def review_struck(state: str | None, reviewer: str, body: str | None, url: str) -> OutMessage:
    """Return a review's message once dismissed: its verdict struck through, no ping."""
    emoji, words = _REVIEW_WORDS.get(state or "", ("💬", "reviewed"))
    content = f"🚫 ~~{emoji} **{reviewer}** {words}~~ (dismissed){_link('review', url)}"
    text = clip_markdown(body_text(body), DESCRIPTION_MAX, url)
    embeds = (EmbedSpec(description=text, url=safe_url(url)),) if text else ()
    return _message(content, *embeds)


def review_dismissed(reviewer: str, by: str, url: str) -> OutMessage:
    """Return a dismissed review (never shown as changes requested)."""
    return _message(f"🚫 Review by **{reviewer}** dismissed by **{by}**{_link('review', url)}")


def review_requested(
    by: str, reviewer: str | None, team: str | None, reviewer_id: int | None
) -> OutMessage:
    """Return a review request naming the reviewer (pinged when mapped) or the team."""
    who = _mention(reviewer, reviewer_id) if reviewer else f"team **{team or '?'}**"
    return _message(f"👀 **{by}** requested a review from {who}", ping=reviewer_id)


def draft(by: str) -> OutMessage:
    """Return the message for a PR turned back into a draft."""
    return _message(f"📝 **{by}** marked this pull request as a draft")


def ready(by: str) -> OutMessage:
    """Return the message for a draft marked ready for review."""
    return _message(f"🚀 **{by}** marked this pull request as ready for review")


def closed(merged: bool, by: str) -> OutMessage:
    """Return "merged by X" or "closed by X"."""
    return _message(f"🟣 Merged by **{by}**" if merged else f"🔴 Closed by **{by}**")


def reopened(by: str) -> OutMessage:
    """Return the message for a reopened PR."""
    return _message(f"🟢 Reopened by **{by}**")


def new_commits(by: str, count: int | None, url: str) -> OutMessage:
    """Return "N new commits" (or "new commits" when the count is unknown)."""
    what = f"{count} new commit{'s' if count != 1 else ''}" if count else "new commits"
    return _message(f"⬆️ **{by}** pushed {what}{_link('changes', f'{url}/files')}")


def failure_alert(function_id: str, run_id: str, error: str) -> OutMessage:
    """Return a short alert about a failed run: its error's type only, never its message.

    Error messages can quote the payload (a comment, a URL); the details stay in the run record.
    """
    kind = error.partition(":")[0].strip()
    kind = kind if re.fullmatch(r"[A-Za-z_][\w.]{0,99}", kind) else "error"
    text = f"⚠️ prbot run failed: `{function_id}` run `{run_id}` ({kind})"
    return _message(f"{text}; details: `prbot runs show {run_id}`")


def duration(seconds: float) -> str:
    """Return a period as people say it: 90s, 30m, 48h, 2d (the largest unit that fits whole)."""
    whole = round(seconds)
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if whole >= size and whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def ago(ms: int) -> str:
    """Return how long something has waited, rounded down: 45m, 5h, 2d."""
    minutes = max(0, ms) // 60_000
    if minutes >= 2 * 24 * 60:
        return f"{minutes // (24 * 60)}d"
    return f"{minutes // 60}h" if minutes >= 60 else f"{minutes}m"


def _who(users: Sequence[tuple[str, int | None]], teams: Sequence[str]) -> str:
    named = [_mention(login, user_id) for login, user_id in users]
    named += [f"team **{clean(team)}**" for team in teams]
    return ", ".join(named)


def review_reminder(
    users: Sequence[tuple[str, int | None]], teams: Sequence[str], waited_s: float, n: int, of: int
) -> OutMessage:
    """Return the n-th reminder to the requested reviewers (mapped users pinged, nobody else)."""
    content = (
        f"⏰ {_who(users, teams)}: this pull request has waited {duration(waited_s)} for a "
        f"review (reminder {n} of {of})"
    )
    pings = tuple(user_id for _, user_id in users if user_id is not None)
    return OutMessage(clip(content, CONTENT_MAX), (), pings)


_MARKDOWN = re.compile(r"([\\`*_~|<>\[\]])")


def _plain(text: str) -> str:
    # User text inside a masked link: escape what Markdown or a link could make of it.
    return _MARKDOWN.sub(r"\\\1", clean(text))


def digest(entries: Sequence[DigestEntry], now_ms: int) -> OutMessage | None:
    """Return the digest of PRs waiting for review, per repository, oldest first; None if none."""
    if not entries:
        return None
    count = len(entries)
    head = (
        f"📋 **{count} pull request{'s' if count != 1 else ''} waiting for review**, oldest first"
    )
    ordered = sorted(entries, key=lambda e: (e.repo, e.since_ms, e.number))
    lines, repo = [head], None
    for shown, e in enumerate(ordered):
        title = clip(f"#{e.number} {e.title}", 80)
        who = ", ".join([*e.reviewers, *(f"team {t}" for t in e.teams)])
        add = [f"**{_plain(e.repo)}**"] if e.repo != repo else []
        add.append(f"• [{_plain(title)}](<{e.link}>) · {ago(now_ms - e.since_ms)} · {_plain(who)}")
        # Keep room for the line saying how many are left out, unless this is the last one.
        rest = [f"… and {count - shown - 1} more"] if shown + 1 < count else []
        if len("\n".join([*lines, *add, *rest])) > CONTENT_MAX:
            lines.append(f"… and {count - shown} more")
            break
        lines += add
        repo = e.repo
    return OutMessage("\n".join(lines))
