"""Messages in the fake Discord: limits, forum and archived-thread rules, nonces, mentions.

Edits and deletes (https://discord.com/developers/docs/resources/message#edit-message,
#delete-message): only the author edits a message's content and embeds (50005 otherwise); a
bot deletes another's message only with MANAGE_MESSAGES, which the fake's bot lacks (50013); an
unknown message is 10008. In an archived thread neither works until it is unarchived (50083):
Discord documents no exception, and discord.js found it so against the live API
(discordjs/discord.js#9216: "if the thread is archived: impossible to modify the message").

https://discord.com/developers/docs/resources/message#create-message: ``enforce_nonce`` checks the
nonce "for uniqueness in the past few minutes. If another message was created by the same author
with the same nonce, that message will be returned and no new message will be created."

https://discord.com/developers/docs/resources/message#get-channel-messages: ``before``, ``after``
and ``around`` (one at a time) pick which messages, ``limit`` 1-100 (default 50) how many; the
answer is newest first whichever is used (``after`` gives the oldest ``limit`` messages after the
id, still newest first: discord.py pages on with the first element's id).
"""

from __future__ import annotations

import copy

from tests.fakes.discord_models import Channel, JSONObject, Message, Thread, User
from tests.fakes.discord_rules import (
    DiscordError,
    FormErrors,
    check_message,
    compute_pings,
    empty_message,
    forum_send,
    require_content,
    thread_archived,
    unknown,
)
from tests.fakes.discord_state import DiscordState


def create_message(state: DiscordState, channel_id: int, body: JSONObject) -> tuple[Message, bool]:
    """POST /channels/{id}/messages; return the message and whether it is new."""
    target = message_target(state, channel_id, for_send=True)
    errors = FormErrors()
    check_message(errors, body)
    errors.raise_if_any()
    require_content(body)
    if isinstance(target, Thread) and target.archived and target.locked:
        raise thread_archived(403)
    existing = _nonce_hit(state, channel_id, body)
    if existing is not None:
        return existing, False
    if isinstance(target, Thread) and target.archived:
        # Posting unarchives an archived thread unless it is locked.
        target.archived = False
        target.archive_timestamp = state.clock.now()
    return store_message(state, target, body), True


def get_message(state: DiscordState, channel_id: int, message_id: int) -> JSONObject:
    """GET /channels/{id}/messages/{message_id}."""
    message_target(state, channel_id, for_send=False)
    for message in state.messages.get(channel_id, []):
        if message.id == message_id:
            return message.to_json()
    raise unknown("Message")


def list_messages(
    state: DiscordState,
    channel_id: int,
    anchors: dict[str, int],
    limit: int | None,
) -> list[JSONObject]:
    """GET /channels/{id}/messages?before|after|around=&limit=: newest first, no nonces."""
    message_target(state, channel_id, for_send=False)
    errors = FormErrors()
    size = 50 if limit is None else limit
    if not 1 <= size <= 100:
        errors.add(("limit",), "NUMBER_TYPE_MAX", "int value should be between 1 and 100.")
    if len(anchors) > 1:
        errors.add(("around",), "BASE_TYPE_BAD_COMBINATION", "Only one of before, after, around.")
    errors.raise_if_any()
    ordered = sorted(state.messages.get(channel_id, []), key=lambda m: m.id)
    if "after" in anchors:
        picked = [m for m in ordered if m.id > anchors["after"]][:size]
    elif "around" in anchors:
        older = [m for m in ordered if m.id < anchors["around"]]
        kept = older[len(older) - min(len(older), size // 2) :]
        picked = kept + [m for m in ordered if m.id >= anchors["around"]][: size - len(kept)]
    else:
        cutoff = anchors.get("before")
        picked = [m for m in ordered if cutoff is None or m.id < cutoff][-size:]
    return [m.to_json() for m in reversed(picked)]


def edit_message(
    state: DiscordState, channel_id: int, message_id: int, body: JSONObject
) -> Message:
    """PATCH /channels/{id}/messages/{message_id}: new content and embeds, mentions re-read."""
    message = _own_message(state, channel_id, message_id, cannot=(403, 50005, "edit"))
    errors = FormErrors()
    check_message(errors, body)
    errors.raise_if_any()
    content = body.get("content", message.content)
    embeds = body.get("embeds", message.embeds)
    if not content and not embeds:
        raise empty_message()
    allowed = body.get("allowed_mentions", message.allowed_mentions)
    message.content = content or ""
    message.embeds = copy.deepcopy(embeds or [])
    message.allowed_mentions = copy.deepcopy(allowed)
    message.pings = compute_pings(message.content, allowed)
    message.edited_at = state.clock.now()
    return message


def delete_message(state: DiscordState, channel_id: int, message_id: int) -> None:
    """DELETE /channels/{id}/messages/{message_id} (204)."""
    message = _own_message(state, channel_id, message_id, cannot=(403, 50013, "delete"))
    state.messages[channel_id].remove(message)


def _own_message(
    state: DiscordState, channel_id: int, message_id: int, *, cannot: tuple[int, int, str]
) -> Message:
    target = message_target(state, channel_id, for_send=False)
    found = [m for m in state.messages.get(channel_id, []) if m.id == message_id]
    if not found:
        raise unknown("Message")
    if isinstance(target, Thread) and target.archived:
        raise thread_archived()
    if found[0].author.id != state.bot.id:
        status, code, verb = cannot
        words = "Cannot edit a message authored by another user"
        raise DiscordError(status, code, words if verb == "edit" else "Missing Permissions")
    return found[0]


def seed_message(state: DiscordState, channel_id: int, author: User, content: str) -> Message:
    """Store a message written by someone else (a person in the thread), for tests."""
    target = message_target(state, channel_id, for_send=False)
    message = store_message(state, target, {"content": content})
    message.author = author
    return message


def message_target(state: DiscordState, channel_id: int, *, for_send: bool) -> Channel | Thread:
    """Return the channel or thread messages go to; nothing can be posted to a forum itself."""
    if channel_id in state.threads:
        return state.thread(channel_id)
    channel = state.channel(channel_id)
    if for_send and channel.is_forum:
        raise forum_send()
    return channel


def store_message(
    state: DiscordState,
    target: Channel | Thread,
    body: JSONObject,
    *,
    message_id: int | None = None,
) -> Message:
    """Create a message from a validated payload, recording what the request carried."""
    allowed = body.get("allowed_mentions")
    message = Message(
        id=message_id or state.ids.next(),
        channel_id=target.id,
        guild_id=target.guild_id,
        author=state.bot,
        content=body.get("content") or "",
        embeds=copy.deepcopy(body.get("embeds") or []),
        created_at=state.clock.now(),
        nonce=body.get("nonce"),
        enforce_nonce=bool(body.get("enforce_nonce")),
        allowed_mentions=copy.deepcopy(allowed),
        pings=compute_pings(body.get("content"), allowed),
    )
    state.messages[target.id].append(message)
    if message.nonce is not None:
        state.nonces[(target.id, state.bot.id, str(message.nonce))] = message
    target.last_message_id = message.id
    if isinstance(target, Thread) and message.id != target.id:
        # A forum post's starter message (same id as the thread) is not in message_count.
        target.message_count += 1
        target.total_message_sent += 1
        target.last_activity = message.created_at
    return message


def _nonce_hit(state: DiscordState, channel_id: int, body: JSONObject) -> Message | None:
    nonce = body.get("nonce")
    if nonce is None or not body.get("enforce_nonce"):
        return None
    found = state.nonces.get((channel_id, state.bot.id, str(nonce)))
    if found is None or state.clock.now() - found.created_at > state.nonce_window_s:
        return None
    return found
