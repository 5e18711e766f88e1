"""Discord thread replies as GitHub comments: the body prbot writes, and what it never mirrors.

Pure functions only. A mirrored comment names its Discord author and links the message, and
ends with the marker `<!-- prbot:discord:{message_id} -->` so a retry (or the echo guard) finds
it. No Discord text may ping anyone on GitHub: a mention of a mapped member becomes their
`@login`, and every other `@` gets a zero-width space after it, which GitHub does not read as
a mention (https://docs.github.com/get-started/writing-on-github, "Mentioning people and teams").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict

COMMENT_MAX = 65_536  # GitHub refuses longer comment bodies
MARKER_PREFIX = "<!-- prbot:"
ZWSP = "\u200b"
TRUNCATED = "\n\n… (cut: the full message is on Discord)"
# `<@123>` / `<@!123>` users, `<@&123>` roles, else any `@` that could start a login or team.
_MENTION = re.compile(r"<@!?(\d+)>|<@&(\d+)>|@(?=[\w-])")
_MARKDOWN_NAME = re.compile(r"([\\`*_\[\]<>~|#])")


def marker(message_id: int | str) -> str:
    """Return the invisible marker of the comment that mirrors Discord message `message_id`."""
    return f"<!-- prbot:discord:{message_id} -->"


class Author(BaseModel):
    """Who wrote a Discord message."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: int
    name: str = ""
    bot: bool = False
    webhook_id: int | None = None


class Reply(BaseModel):
    """A message written in a PR thread, as a `discord/message.created|updated` event has it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    pr: str
    repo: str
    number: int
    message_id: int
    thread_id: int
    url: str = ""
    author: Author
    content: str = ""
    attachments: tuple[str, ...] = ()
    reply_to: int | None = None
    mentions: tuple[int, ...] = ()


def skip_reason(reply: Reply) -> str | None:
    """Return why a message is never mirrored (bots, webhooks, prbot itself), else None."""
    if reply.author.bot:
        return "written by a bot"
    if reply.author.webhook_id is not None:
        return "sent by a webhook"
    if not reply.content.strip() and not reply.attachments:
        return "empty"
    return None


def mentioned_ids(reply: Reply) -> list[int]:
    """Return the members a message mentions: those Discord listed and those its text names."""
    named = {int(m.group(1)) for m in _MENTION.finditer(reply.content) if m.group(1)}
    return sorted(named | set(reply.mentions))


def neutralise(text: str, logins: Mapping[int, str]) -> str:
    """Turn mentions of mapped members into `@login`; keep every other `@` from pinging."""

    def swap(match: re.Match[str]) -> str:
        user, role = match.group(1), match.group(2)
        if user is not None:
            login = logins.get(int(user))
            return f"@{login}" if login else f"@{ZWSP}discord-user"
        if role is not None:
            return f"@{ZWSP}discord-role"
        return "@" + ZWSP

    return _MENTION.sub(swap, text)


def display_name(name: str) -> str:
    """Return a Discord display name safe in bold Markdown: no pings, no markup."""
    plain = " ".join(name.split()) or "someone"
    return _MARKDOWN_NAME.sub(r"\\\1", neutralise(plain, {}))


def _attachment(url: str) -> str:
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1]) or "attachment"
    return f"📎 [{display_name(name)}]({url})"


def comment_body(reply: Reply, logins: Mapping[int, str]) -> str:
    """Return the GitHub comment mirroring `reply` (at most 65,536 characters, marker included)."""
    head = f"**{display_name(reply.author.name)}** wrote [on Discord]({reply.url}):\n\n"
    tail = "\n\n" + "\n".join(_attachment(url) for url in reply.attachments)
    tail = (tail if reply.attachments else "") + "\n\n" + marker(reply.message_id)
    # No HTML comment from Discord: a forged marker would let one message pass for another.
    text = neutralise(reply.content, logins).replace("<!--", "&lt;!--").strip()
    room = COMMENT_MAX - len(head) - len(tail)
    if len(text) > room:
        text = text[: room - len(TRUNCATED)].rstrip() + TRUNCATED
    return head + text + tail


def has_marker(body: str | None) -> bool:
    """Tell whether a GitHub comment carries a prbot marker."""
    return body is not None and MARKER_PREFIX in body


def is_prbot_echo(body: str | None, author: str, identity: str | None) -> bool:
    """Tell whether a GitHub comment is one prbot wrote (so it goes back to no Discord thread).

    Both must hold: the body carries prbot's marker, and the author is prbot's identity (the
    App's bot, or the token's user) when known — a person quoting a marker is still heard.
    """
    if not has_marker(body):
        return False
    return identity is None or author.casefold() == identity.casefold()
