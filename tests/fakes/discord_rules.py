"""Discord's documented request rules as pure functions: errors, limits, mentions.

Sources: https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes,
https://discord.com/developers/docs/resources/message#create-message (limits, allowed mentions),
https://discord.com/developers/docs/resources/channel#start-thread-without-message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from tests.fakes.discord_models import JSONObject, Pings

ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)
THREAD_NAME_MAX = 100
CONTENT_MAX = 2000
NONCE_MAX = 25
EMBEDS_MAX = 10
EMBED_FIELDS_MAX = 25
EMBED_TOTAL_MAX = 6000
APPLIED_TAGS_MAX = 5
MENTION_IDS_MAX = 100
# (path inside one embed, limit); all of them also count towards EMBED_TOTAL_MAX.
EMBED_TEXT_LIMITS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("title",), 256),
    (("description",), 4096),
    (("footer", "text"), 2048),
    (("author", "name"), 256),
)
FIELD_LIMITS = (("name", 256), ("value", 1024))
EMBED_URL_MAX = 2048
URL_SCHEMES = ("http", "https")
PARSE_TYPES = ("roles", "users", "everyone")

_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")
_EVERYONE_MENTION = re.compile(r"@(everyone|here)\b")


class DiscordError(Exception):
    """An error response in Discord's shape: HTTP status, JSON code, message, field errors."""

    def __init__(
        self, status: int, code: int, message: str, errors: JSONObject | None = None
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> JSONObject:
        """Return the JSON error body."""
        body: JSONObject = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body


class RateLimitedError(DiscordError):
    """A 429 decided by a rule (the thread rename limit), not by a route bucket."""

    def __init__(self, retry_after_s: float, *, scope: str = "user") -> None:
        super().__init__(429, 0, "You are being rate limited.")
        self.retry_after_s = retry_after_s
        self.scope = scope

    def body(self) -> JSONObject:
        """Return the documented rate limit body."""
        return {
            "message": self.message,
            "retry_after": round(self.retry_after_s, 3),
            "global": False,
        }


def unauthorized() -> DiscordError:
    """Return the 401 for a missing or wrong token."""
    return DiscordError(401, 0, "401: Unauthorized")


def unknown(kind: str) -> DiscordError:
    """Return the 404 for an unknown channel, guild, member or message."""
    codes = {"Channel": 10003, "Guild": 10004, "Member": 10007, "Message": 10008}
    return DiscordError(404, codes[kind], f"Unknown {kind}")


def route_not_found() -> DiscordError:
    """Return the 404 for a path the API does not have."""
    return DiscordError(404, 0, "404: Not Found")


def thread_archived(status: int = 400) -> DiscordError:
    """Return 50083: the operation needs the thread unarchived first."""
    return DiscordError(status, 50083, "Thread is archived")


def forum_send() -> DiscordError:
    """Return 40058: nothing can be posted to a forum channel itself."""
    return DiscordError(403, 40058, "Cannot send a message in a forum channel")


def empty_message() -> DiscordError:
    """Return 50006: a message needs content or embeds."""
    return DiscordError(400, 50006, "Cannot send an empty message")


def wrong_channel_type() -> DiscordError:
    """Return 50024: e.g. a thread inside a thread."""
    return DiscordError(400, 50024, "Cannot execute action on this channel type")


def tag_required() -> DiscordError:
    """Return 40067: the forum requires a tag on every post."""
    return DiscordError(400, 40067, "A tag is required to create a forum post in this channel")


class FormErrors:
    """Collect field errors and raise them together as Invalid Form Body (50035)."""

    def __init__(self) -> None:
        self.tree: JSONObject = {}

    def add(self, path: Sequence[str | int], code: str, message: str) -> None:
        """Record one error at ``path`` (e.g. ``("embeds", 0, "title")``)."""
        node = self.tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def raise_if_any(self) -> None:
        """Raise the collected errors as one 400, if there are any."""
        if self.tree:
            raise DiscordError(400, 50035, "Invalid Form Body", self.tree)


def check_length(
    errors: FormErrors, path: Sequence[str | int], value: object, low: int, high: int
) -> None:
    """Check that ``value`` is a string of ``low``..``high`` characters."""
    if not isinstance(value, str):
        errors.add(path, "BASE_TYPE_STRING", "Must be a string.")
    elif low == 0 and len(value) > high:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {high} or fewer in length.")
    elif not low <= len(value) <= high:
        errors.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")


def check_thread_name(errors: FormErrors, body: JSONObject, *, required: bool) -> None:
    """Check ``name``: required on create, 1–100 characters."""
    if "name" not in body or body["name"] is None:
        if required:
            errors.add(("name",), "BASE_TYPE_REQUIRED", "This field is required")
        return
    check_length(errors, ("name",), body["name"], 1, THREAD_NAME_MAX)


def check_archive_duration(errors: FormErrors, body: JSONObject) -> None:
    """Check ``auto_archive_duration`` is one of 60, 1440, 4320, 10080 when given."""
    value = body.get("auto_archive_duration")
    if value is not None and value not in ARCHIVE_DURATIONS:
        choices = ", ".join(map(str, ARCHIVE_DURATIONS))
        errors.add(
            ("auto_archive_duration",), "BASE_TYPE_CHOICES", f"Value must be one of {{{choices}}}."
        )


def check_applied_tags(errors: FormErrors, value: object, available: set[int]) -> list[int]:
    """Check ``applied_tags``: at most 5 ids, each one of the forum's tags; return them."""
    if not isinstance(value, list):
        errors.add(("applied_tags",), "BASE_TYPE_ARRAY", "Must be an array.")
        return []
    if len(value) > APPLIED_TAGS_MAX:
        errors.add(
            ("applied_tags",),
            "BASE_TYPE_MAX_LENGTH",
            f"Must be {APPLIED_TAGS_MAX} or fewer in length.",
        )
    tags: list[int] = []
    for index, raw in enumerate(value):
        tag = _as_snowflake(raw)
        if tag is None or tag not in available:
            errors.add(
                ("applied_tags", index), "UNKNOWN_TAG", f"Unknown tag {raw!r} for this forum."
            )
        else:
            tags.append(tag)
    return tags


def check_message(errors: FormErrors, body: JSONObject, prefix: Sequence[str | int] = ()) -> None:
    """Check a message payload's content, nonce, embeds and allowed_mentions."""
    content = body.get("content")
    if content is not None:
        check_length(errors, (*prefix, "content"), content, 0, CONTENT_MAX)
    nonce = body.get("nonce")
    if nonce is not None and len(str(nonce)) > NONCE_MAX:
        errors.add(
            (*prefix, "nonce"), "BASE_TYPE_MAX_LENGTH", f"Must be {NONCE_MAX} or fewer in length."
        )
    _check_embeds(errors, body.get("embeds"), (*prefix, "embeds"))
    allowed = body.get("allowed_mentions")
    if allowed is not None:
        _check_allowed_mentions(errors, allowed, (*prefix, "allowed_mentions"))


def require_content(body: JSONObject) -> None:
    """Raise 50006 unless the message has content or at least one embed."""
    if not body.get("content") and not body.get("embeds"):
        raise empty_message()


def _check_embeds(errors: FormErrors, embeds: object, path: tuple[str | int, ...]) -> None:
    if embeds is None:
        return
    if not isinstance(embeds, list):
        errors.add(path, "BASE_TYPE_ARRAY", "Must be an array.")
        return
    if len(embeds) > EMBEDS_MAX:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {EMBEDS_MAX} or fewer in length.")
    total = sum(_check_embed(errors, embed, (*path, i)) for i, embed in enumerate(embeds))
    if total > EMBED_TOTAL_MAX:
        errors.add(
            path, "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}"
        )


def _check_embed(errors: FormErrors, embed: object, path: tuple[str | int, ...]) -> int:
    """Check one embed's limits and return how many characters it counts towards 6000."""
    if not isinstance(embed, dict):
        errors.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return 0
    total = 0
    for keys, limit in EMBED_TEXT_LIMITS:
        text = _dig(embed, keys)
        if text is not None:
            check_length(errors, (*path, *keys), text, 0, limit)
            total += len(str(text))
    if embed.get("url") is not None:
        _check_url(errors, embed["url"], (*path, "url"))
    fields = embed.get("fields") or []
    if len(fields) > EMBED_FIELDS_MAX:
        errors.add((*path, "fields"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for index, item in enumerate(fields):
        for key, limit in FIELD_LIMITS:
            check_length(errors, (*path, "fields", index, key), item.get(key), 1, limit)
            total += len(str(item.get(key) or ""))
    return total


def _check_url(errors: FormErrors, url: object, path: tuple[str | int, ...]) -> None:
    """Check an embed URL: a string of at most 2,048 characters, scheme http or https."""
    check_length(errors, path, url, 0, EMBED_URL_MAX)
    if not isinstance(url, str) or len(url) > EMBED_URL_MAX:
        return
    scheme, found, rest = url.partition("://")
    if not found or not rest or any(c.isspace() for c in url):
        errors.add(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")
    elif scheme.lower() not in URL_SCHEMES:
        message = f'Scheme "{scheme}" is not supported. Scheme must be one of {URL_SCHEMES}.'
        errors.add(path, "URL_TYPE_INVALID_SCHEME", message)


def _check_allowed_mentions(
    errors: FormErrors, allowed: object, path: tuple[str | int, ...]
) -> None:
    if not isinstance(allowed, dict):
        errors.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return
    parse = allowed.get("parse") or []
    for index, kind in enumerate(parse):
        if kind not in PARSE_TYPES:
            errors.add(
                (*path, "parse", index), "BASE_TYPE_CHOICES", f"Value must be one of {PARSE_TYPES}."
            )
    for kind in ("users", "roles"):
        ids = allowed.get(kind)
        if ids is None:
            continue
        if kind in parse:
            message = f'parse:["{kind}"] and {kind}: [ids] are mutually exclusive.'
            errors.add(path, "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", message)
        if len(ids) > MENTION_IDS_MAX:
            errors.add((*path, kind), "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")


def compute_pings(content: str | None, allowed: JSONObject | None) -> Pings:
    """Return who ``content`` notifies under ``allowed_mentions`` (absent = parse everything).

    Assumes the bot may mention everyone and every role, so this is the worst case.
    """
    text = content or ""
    users = _unique(int(m) for m in _USER_MENTION.findall(text))
    roles = _unique(int(m) for m in _ROLE_MENTION.findall(text))
    everyone = _EVERYONE_MENTION.search(text) is not None
    if allowed is None:
        return Pings(everyone=everyone, users=users, roles=roles)
    parse = set(allowed.get("parse") or [])
    return Pings(
        everyone=everyone and "everyone" in parse,
        users=_allowed(users, "users" in parse, allowed.get("users")),
        roles=_allowed(roles, "roles" in parse, allowed.get("roles")),
    )


def _allowed(found: tuple[int, ...], parse_all: bool, listed: object) -> tuple[int, ...]:
    if parse_all:
        return found
    ids = {_as_snowflake(x) for x in listed} if isinstance(listed, list) else set()
    return tuple(x for x in found if x in ids)


def _unique(ids: Iterable[int]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(ids))


def _dig(data: JSONObject, keys: tuple[str, ...]) -> object:
    node: object = data
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _as_snowflake(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
