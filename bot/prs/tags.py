"""Forum status tags: which of a forum's tags say a PR's state, review verdict, CI and labels."""

from __future__ import annotations

import logging
from typing import NamedTuple

from bot.discord import ChannelInfo
from bot.prs.routing import APPLIED_TAGS_MAX, tag_names
from bot.settings import Settings

log = logging.getLogger(__name__)

_WARNED: set[tuple[int, str]] = set()  # (forum, tag name) already warned about in this process


class Extras(NamedTuple):
    """What else a post's tags follow: failing checks, and the PR's labels (and the old ones)."""

    checks: bool = False
    labels: tuple[str, ...] = ()
    previous: tuple[str, ...] = ()


def status_tags(
    settings: Settings,
    channel: ChannelInfo,
    current: tuple[int, ...],
    state: str,
    review: str | None,
    extras: Extras | None = None,
) -> tuple[int, ...]:
    """Return the post's tags: status tags (state, review, failing checks), label tags, others.

    A forum tag named like one of the PR's labels is applied while the PR has the label; a tag
    of a label the PR had (`extras.previous`) goes with it. Tags prbot does not manage stay.
    """
    extras = extras or Extras()
    names = tag_names(settings)
    status_ids = {channel.tags.get(n.casefold()) for n in names.values()}
    wanted: list[int] = []
    for key in (state, review, "checks_failing" if extras.checks else None):
        name = names.get(key) if key else None
        if name is None:
            continue
        tag = channel.tags.get(name.casefold())
        if tag is None:
            warn_missing_tag(channel.id, name)
        else:
            wanted.append(tag)
    label_tags = [channel.tags.get(label.casefold()) for label in extras.labels]
    wanted += [t for t in label_tags if t is not None]
    managed = status_ids | {channel.tags.get(n.casefold()) for n in extras.previous}
    kept = [t for t in current if t not in managed and t not in wanted]
    return tuple(dict.fromkeys(wanted + kept))[:APPLIED_TAGS_MAX]


def warn_missing_tag(channel_id: int, name: str) -> None:
    """Warn once per process that a forum lacks a status tag (prbot works without it)."""
    if (channel_id, name) not in _WARNED:
        _WARNED.add((channel_id, name))
        log.warning("forum channel %s has no tag named %r; working without it", channel_id, name)
