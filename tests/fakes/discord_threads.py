"""Threads and forum posts in the fake Discord: create, edit, join, list.

https://discord.com/developers/docs/topics/threads and resources/channel: a thread started without
a message is PRIVATE unless ``type: 11`` is sent; a forum post needs a first message; any PATCH of
an archived thread must carry ``archived: false``; renames are limited to 2 per 10 minutes
(undocumented, widely confirmed).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tests.fakes.discord_clock import as_datetime, parse_iso
from tests.fakes.discord_messages import store_message
from tests.fakes.discord_models import (
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    REQUIRE_TAG_FLAG,
    Channel,
    JSONObject,
    Thread,
)
from tests.fakes.discord_rules import (
    FormErrors,
    RateLimitedError,
    check_applied_tags,
    check_archive_duration,
    check_length,
    check_message,
    check_thread_name,
    require_content,
    tag_required,
    thread_archived,
    wrong_channel_type,
)
from tests.fakes.discord_state import DiscordState


def create_thread(state: DiscordState, channel_id: int, body: JSONObject) -> JSONObject:
    """POST /channels/{id}/threads: a thread in a text channel or a post in a forum."""
    if channel_id in state.threads:
        raise wrong_channel_type()
    parent = state.channel(channel_id)
    errors = FormErrors()
    check_thread_name(errors, body, required=True)
    check_archive_duration(errors, body)
    if parent.is_forum:
        return _create_forum_post(state, parent, body, errors)
    # Discord's documented default is a PRIVATE thread when `type` is omitted.
    kind = body.get("type")
    kind = PRIVATE_THREAD if kind is None else kind
    if kind not in (PUBLIC_THREAD, PRIVATE_THREAD):
        errors.add(("type",), "BASE_TYPE_CHOICES", "Value must be one of {11, 12}.")
    errors.raise_if_any()
    return _new_thread(state, parent, body, kind).to_json()


def _create_forum_post(
    state: DiscordState, forum: Channel, body: JSONObject, errors: FormErrors
) -> JSONObject:
    message = body.get("message")
    if isinstance(message, dict):
        check_message(errors, message, ("message",))
    else:
        errors.add(("message",), "BASE_TYPE_REQUIRED", "This field is required")
    tags: list[int] = []
    if body.get("applied_tags") is not None:
        tags = check_applied_tags(errors, body["applied_tags"], forum.tag_ids())
    errors.raise_if_any()
    assert isinstance(message, dict)
    require_content(message)
    if forum.flags & REQUIRE_TAG_FLAG and not tags:
        raise tag_required()
    thread = _new_thread(state, forum, body, PUBLIC_THREAD, tags)
    # The starter message of a forum post has the thread's id, as on Discord.
    starter = store_message(state, thread, message, message_id=thread.id)
    return {**thread.to_json(), "message": starter.to_json()}


def _new_thread(
    state: DiscordState, parent: Channel, body: JSONObject, kind: int, tags: Sequence[int] = ()
) -> Thread:
    now = state.clock.now()
    thread = Thread(
        id=state.ids.next(),
        guild_id=parent.guild_id,
        parent_id=parent.id,
        owner_id=state.bot.id,
        name=body["name"],
        type=kind,
        auto_archive_duration=body.get("auto_archive_duration")
        or parent.default_auto_archive_duration,
        created_at=now,
        archive_timestamp=now,
        last_activity=now,
        invitable=body.get("invitable") is not False,
        applied_tags=list(tags),
        members={state.bot.id: now},
    )
    state.threads[thread.id] = thread
    state.messages[thread.id] = []
    return thread


def edit_channel(state: DiscordState, channel_id: int, body: JSONObject) -> JSONObject:
    """PATCH /channels/{id}: rename/archive/lock/retag a thread, or rename a channel."""
    if channel_id not in state.threads:
        return _edit_guild_channel(state, state.channel(channel_id), body)
    thread = state.thread(channel_id)
    parent = state.channels[thread.parent_id]
    errors = FormErrors()
    check_thread_name(errors, body, required=False)
    check_archive_duration(errors, body)
    tags = None
    if body.get("applied_tags") is not None and parent.is_forum:
        tags = check_applied_tags(errors, body["applied_tags"], parent.tag_ids())
    errors.raise_if_any()
    # Any PATCH of an archived thread must unarchive it in the same request.
    if thread.archived and body.get("archived") is not False:
        raise thread_archived()
    if body.get("name") not in (None, thread.name):
        _count_rename(state, thread.renames)
        thread.name = body["name"]
    _apply_thread_fields(state, thread, body)
    if tags is not None:
        thread.applied_tags = tags
    return thread.to_json()


def _apply_thread_fields(state: DiscordState, thread: Thread, body: JSONObject) -> None:
    now = state.clock.now()
    archived = body.get("archived")
    if archived is not None and archived != thread.archived:
        thread.archived = bool(archived)
        thread.archive_timestamp = now
        thread.last_activity = now
    if body.get("locked") is not None:
        thread.locked = bool(body["locked"])
    if body.get("auto_archive_duration") is not None:
        thread.auto_archive_duration = body["auto_archive_duration"]
    if body.get("invitable") is not None and thread.type == PRIVATE_THREAD:
        thread.invitable = bool(body["invitable"])


def _edit_guild_channel(state: DiscordState, channel: Channel, body: JSONObject) -> JSONObject:
    errors = FormErrors()
    if body.get("name") is not None:
        check_length(errors, ("name",), body["name"], 1, 100)
    errors.raise_if_any()
    if body.get("name") not in (None, channel.name):
        _count_rename(state, channel.renames)
        channel.name = body["name"]
    if "topic" in body:
        channel.topic = body["topic"]
    return channel.to_json()


def _count_rename(state: DiscordState, renames: list[float]) -> None:
    """Allow ``rename_limit`` renames per window, else 429 until the oldest one leaves it."""
    now = state.clock.now()
    renames[:] = [t for t in renames if now - t < state.rename_window_s]
    if len(renames) >= state.rename_limit:
        raise RateLimitedError(renames[0] + state.rename_window_s - now)
    renames.append(now)


def join_thread(state: DiscordState, thread_id: int) -> None:
    """PUT /channels/{id}/thread-members/@me."""
    thread = state.thread(thread_id)
    if thread.archived:
        raise thread_archived()
    thread.members.setdefault(state.bot.id, state.clock.now())


def active_threads(state: DiscordState, guild_id: int) -> JSONObject:
    """GET /guilds/{id}/threads/active: unarchived threads plus the bot's memberships."""
    state.guild(guild_id)
    active = [t for t in state.all_threads() if t.guild_id == guild_id and not t.archived]
    return _thread_page(state, active)


def archived_public_threads(
    state: DiscordState, channel_id: int, before: str | None, limit: int | None
) -> JSONObject:
    """GET /channels/{id}/threads/archived/public: newest archive first, before an ISO time."""
    state.channel(channel_id)
    errors = FormErrors()
    cutoff = _parse_before(errors, before)
    if limit is not None and not 1 <= limit <= 100:
        errors.add(("limit",), "NUMBER_TYPE_MAX", "int value should be between 1 and 100.")
    errors.raise_if_any()
    archived = [
        t
        for t in state.all_threads()
        if t.parent_id == channel_id
        and t.type == PUBLIC_THREAD
        and t.archived
        # Compare as the client saw the timestamps (microseconds), or a page could repeat.
        and (cutoff is None or as_datetime(t.archive_timestamp) < cutoff)
    ]
    archived.sort(key=lambda t: (t.archive_timestamp, t.id), reverse=True)
    size = 50 if limit is None else limit
    page = _thread_page(state, archived[:size])
    page["has_more"] = len(archived) > size
    return page


def _thread_page(state: DiscordState, threads: list[Thread]) -> JSONObject:
    members = [t.member_json(state.bot.id) for t in threads if state.bot.id in t.members]
    return {"threads": [t.to_json() for t in threads], "members": members}


def _parse_before(errors: FormErrors, before: str | None) -> datetime | None:
    if before is None:
        return None
    try:
        return parse_iso(before)
    except ValueError:
        errors.add(("before",), "DATE_TIME_TYPE_PARSE", f"Could not parse {before}.")
        return None
