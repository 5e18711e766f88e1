"""Forum status tags: which of a forum's tags say a PR's state and review verdict."""

from __future__ import annotations

import logging

from bot.discord import ChannelInfo
from bot.prs.routing import APPLIED_TAGS_MAX, tag_names
from bot.settings import Settings

log = logging.getLogger(__name__)

_WARNED: set[tuple[int, str]] = set()  # (forum, tag name) already warned about in this process


def status_tags(
    settings: Settings,
    channel: ChannelInfo,
    current: tuple[int, ...],
    state: str,
    review: str | None,
) -> tuple[int, ...]:
    """Return the post's tags: the status tags for `state` and `review`, then its other tags."""
    names = tag_names(settings)
    status_ids = {channel.tags.get(n.casefold()) for n in names.values()}
    wanted: list[int] = []
    for key in (state, review):
        name = names.get(key) if key else None
        if name is None:
            continue
        tag = channel.tags.get(name.casefold())
        if tag is None:
            warn_missing_tag(channel.id, name)
        else:
            wanted.append(tag)
    kept = [t for t in current if t not in status_ids]
    return tuple(wanted + kept)[:APPLIED_TAGS_MAX]


def warn_missing_tag(channel_id: int, name: str) -> None:
    """Warn once per process that a forum lacks a status tag (prbot works without it)."""
    if (channel_id, name) not in _WARNED:
        _WARNED.add((channel_id, name))
        log.warning("forum channel %s has no tag named %r; working without it", channel_id, name)
