"""Where a PR goes and whether it goes at all: routing (REPO_CHANNELS), filters, tag names."""

from __future__ import annotations

from bot.github.payloads import Subject
from bot.prs import render
from bot.settings import Settings

# Status tags of forum posts: key -> default tag name (FORUM_TAGS=key=Name overrides).
DEFAULT_TAG_NAMES = {
    "open": "open",
    "draft": "draft",
    "approved": "approved",
    "changes_requested": "changes requested",
    "merged": "merged",
    "closed": "closed",
    "checks_failing": "checks failing",
}
# Added after the first releases: a forum without it works as before, so its absence is a warning.
OPTIONAL_TAGS = frozenset({"checks_failing"})
APPLIED_TAGS_MAX = 5


def route(settings: Settings, repo: str) -> int | None:
    """Return the channel for `owner/repo`: exact route, then `owner/*`, then the default."""
    routes = {k.casefold(): v for k, v in settings.repo_channels.items()}
    owner = repo.split("/", 1)[0]
    channel = routes.get(repo.casefold()) or routes.get(f"{owner}/*".casefold())
    return int(channel) if channel else settings.discord_channel_id


def shared_channel(settings: Settings, channel_id: int) -> bool:
    """Tell whether a channel receives several repositories (an `owner/*` or two routes)."""
    sources = [k for k, v in settings.repo_channels.items() if int(v) == channel_id]
    if any(k.endswith("/*") for k in sources):
        return True
    catch_all = bool(settings.repo_channels) and settings.discord_channel_id == channel_id
    return len(sources) + int(catch_all) >= 2


def name_template(settings: Settings, channel_id: int) -> str:
    """Return the thread name template for a channel."""
    shared = shared_channel(settings, channel_id)
    return render.effective_template(settings.thread_name_template, shared)


def skip_reason(settings: Settings, subject: Subject) -> str | None:
    """Return why this PR gets no thread (filters), or None when it gets one."""
    if subject.author.is_bot and not settings.include_bot_prs:
        return "authored by a bot"
    if subject.author.login.casefold() in {a.casefold() for a in settings.excluded_authors}:
        return "excluded author"
    excluded = {label.casefold() for label in settings.excluded_labels}
    if any(label.casefold() in excluded for label in subject.labels):
        return "excluded label"
    if settings.draft_quiet and subject.draft:
        return "draft (DRAFT_QUIET)"
    return None


def tag_names(settings: Settings) -> dict[str, str]:
    """Return status key -> forum tag name, defaults overridden by FORUM_TAGS."""
    names = dict(DEFAULT_TAG_NAMES)
    for key, name in settings.forum_tags.items():
        names[key.casefold().replace(" ", "_").replace("-", "_")] = name
    return names
