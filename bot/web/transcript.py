"""A dry-run transcript as a page that looks like the Discord threads it would make."""

from __future__ import annotations

from bot.discord.transcript import Transcript
from bot.web.templating import render

BOT_NAME = "prbot"


def transcript_html(transcript: Transcript, title: str, bot_name: str = BOT_NAME) -> str:
    """Return a self-contained HTML page (no scripts, inline styles) showing every thread."""
    channels: dict[int, list[object]] = {}
    for thread in transcript.threads.values():
        channels.setdefault(thread.channel_id, []).append(thread)
    return render("transcript.html", title=title, bot=bot_name, channels=channels)
