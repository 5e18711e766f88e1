"""GitHub webhook deliveries without I/O: verify the signature, read the headers, decode the body.

GitHub documents the headers and the signature at
https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries and
https://docs.github.com/en/webhooks/webhook-events-and-payloads#delivery-headers.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import msgspec
import orjson

from bot.runtime import Event, NonRetriableError

# GitHub never sends a payload over 25 MB.
MAX_BODY_BYTES = 25 * 1024 * 1024

SIGNATURE_HEADER = "X-Hub-Signature-256"
EVENT_HEADER = "X-GitHub-Event"
DELIVERY_HEADER = "X-GitHub-Delivery"
# The headers worth keeping with a recorded delivery (replay re-signs, so no signature).
META_HEADERS = (
    EVENT_HEADER,
    DELIVERY_HEADER,
    "X-GitHub-Hook-ID",
    "X-GitHub-Hook-Installation-Target-Type",
    "X-GitHub-Hook-Installation-Target-ID",
    "User-Agent",
)

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
_EVENT_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
# GitHub sends a GUID; allow any short id that is safe inside a Redis key and a log line.
_DELIVERY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_SIGNATURE = re.compile(r"sha256=([0-9a-f]{64})")


class WebhookError(NonRetriableError):
    """A delivery the receiver refuses; `status_code` is the HTTP answer it deserves."""

    status_code = 400


class SignatureError(WebhookError):
    """The signature is missing, malformed or wrong, or there is no secret to check it with."""

    status_code = 401


class BadDeliveryError(WebhookError):
    """A header is missing or invalid, or the body is not a JSON object."""

    status_code = 400


class PayloadTooLargeError(WebhookError):
    """The body is larger than GitHub ever sends."""

    status_code = 413


class UnsupportedMediaTypeError(WebhookError):
    """The body is neither JSON nor form-encoded."""

    status_code = 415


def event_name(event: str, action: str | None) -> str:
    """Name a GitHub event as the runtime does: `github/<event>.<action>` or `github/<event>`."""
    return f"github/{event}.{action}" if action else f"github/{event}"


@dataclass(frozen=True)
class Delivery:
    """A verified, decoded webhook delivery."""

    event: str
    delivery_id: str
    payload: dict[str, Any]
    meta: dict[str, str] = field(default_factory=dict)
    raw: str | None = None  # the payload's JSON text, stored as it came

    @property
    def action(self) -> str | None:
        """Return the payload's `action`, when it has one."""
        action = self.payload.get("action")
        return action if isinstance(action, str) and action else None

    @property
    def event_name(self) -> str:
        """Return the event name: `github/<event>.<action>` or `github/<event>`."""
        return event_name(self.event, self.action)

    @property
    def is_ping(self) -> bool:
        """Tell whether this is the ping GitHub sends when a hook is created."""
        return self.event == "ping"

    @property
    def hook_id(self) -> int | None:
        """Return the id of the hook a ping was for."""
        hook_id = self.payload.get("hook_id")
        return hook_id if isinstance(hook_id, int) and not isinstance(hook_id, bool) else None

    def to_event(self) -> Event:
        """Return the event this delivery becomes: id = delivery id, data = payload."""
        return Event(name=self.event_name, id=self.delivery_id, data=self.payload)


def sign(body: bytes, secret: str) -> str:
    """Return the `X-Hub-Signature-256` value GitHub sends for `body`."""
    # The one-shot C HMAC: `hmac.new` builds a pure-Python object around two hashes each time.
    return "sha256=" + hmac.digest(secret.encode(), body, "sha256").hex()


def verify_signature(body: bytes, signature: str | None, secret: str) -> None:
    """Raise SignatureError unless `signature` is the HMAC-SHA256 of `body` with `secret`."""
    if not signature:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    if not _SIGNATURE.fullmatch(signature.strip().lower()):
        raise SignatureError(f"malformed {SIGNATURE_HEADER} header: expected sha256=<64 hex>")
    if not hmac.compare_digest(sign(body, secret), signature.strip().lower()):
        raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")


def lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    """Return `headers` with lower-case names (HTTP header names are case-insensitive)."""
    return {name.lower(): value for name, value in headers.items()}


def delivery_headers(headers: Mapping[str, str]) -> tuple[str, str]:
    """Return (event, delivery id) from the headers, or raise BadDeliveryError."""
    return _ids(lower_keys(headers))


def _ids(lowered: Mapping[str, str]) -> tuple[str, str]:
    event = lowered.get(EVENT_HEADER.lower(), "").strip()
    delivery_id = lowered.get(DELIVERY_HEADER.lower(), "").strip()
    if not event:
        raise BadDeliveryError(f"missing {EVENT_HEADER} header")
    if not _EVENT_NAME.fullmatch(event):
        raise BadDeliveryError(f"invalid {EVENT_HEADER} header: expected a GitHub event name")
    if not delivery_id:
        raise BadDeliveryError(f"missing {DELIVERY_HEADER} header")
    if not _DELIVERY_ID.fullmatch(delivery_id):
        raise BadDeliveryError(
            f"invalid {DELIVERY_HEADER} header: expected up to 128 of A-Z a-z 0-9 . _ : -"
        )
    return event, delivery_id


def media_type(content_type: str | None) -> str:
    """Return the media type of a Content-Type value, lower-case, without parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# orjson decodes a payload about three times faster than `json`, but it nests up to 1024 deep
# where `json` stops earlier (at Python's recursion limit), so it only decides texts with at most
# 512 opening brackets, too few to nest that deep; `json` decides the rest and whatever orjson
# refuses, and words every refusal as before. (orjson also reads integers beyond 64 bits as
# floats: no GitHub payload has one, and the stored record keeps the text as it was sent.)
_FAST_MAX_BRACKETS = 512


def _decode_fast(text: str | bytes) -> Any | None:
    if not isinstance(text, str):
        return None
    if not 0 < text.count("{") + text.count("[") <= _FAST_MAX_BRACKETS:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def decode_json(text: str | bytes) -> dict[str, Any]:
    """Decode a JSON object, or raise BadDeliveryError saying what is wrong."""
    value = _decode_fast(text)
    if value is None:
        value = _decode_strict(text)
    if not isinstance(value, dict):
        raise BadDeliveryError(f"payload must be a JSON object, got {type(value).__name__}")
    return value


def _decode_strict(text: str | bytes) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise BadDeliveryError("invalid JSON: nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadDeliveryError(f"invalid JSON: {exc}") from None


def decode_form(body: bytes) -> str:
    """Return the JSON text in the `payload` field of a form-encoded body."""
    try:
        fields = parse_qs(
            body.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=100
        )
    except (UnicodeDecodeError, ValueError):
        raise BadDeliveryError("invalid form body: not UTF-8 url-encoded text") from None
    payloads = fields.get("payload", [])
    if len(payloads) != 1:
        raise BadDeliveryError("form-encoded body must have exactly one 'payload' field")
    return payloads[0]


def payload_text(body: bytes, content_type: str | None) -> str:
    """Return the payload's JSON text by Content-Type: JSON (the default) or form-encoded."""
    kind = media_type(content_type)
    if kind == FORM_TYPE:
        return decode_form(body)
    if kind not in ("", JSON_TYPE):
        raise UnsupportedMediaTypeError(
            f"unsupported Content-Type: expected {JSON_TYPE} or {FORM_TYPE}"
        )
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadDeliveryError("invalid JSON: the body is not UTF-8") from None


def decode_body(body: bytes, content_type: str | None) -> dict[str, Any]:
    """Decode the payload by Content-Type: JSON (the default) or form-encoded."""
    return decode_json(payload_text(body, content_type))


def delivery_meta(headers: Mapping[str, str]) -> dict[str, str]:
    """Return the headers worth recording with a delivery, under their canonical names."""
    return _meta(lower_keys(headers))


_META_LOWER = tuple((name, name.lower()) for name in META_HEADERS)


def _meta(lowered: Mapping[str, str]) -> dict[str, str]:
    return {name: lowered[low] for name, low in _META_LOWER if low in lowered}


def parse_delivery(headers: Mapping[str, str], body: bytes, secret: str | None) -> Delivery:
    """Verify (unless `secret` is None), validate and decode one delivery; raise WebhookError."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"body exceeds {MAX_BODY_BYTES} bytes")
    lowered = lower_keys(headers)
    if secret is not None:
        verify_signature(body, lowered.get(SIGNATURE_HEADER.lower()), secret)
    event, delivery_id = delivery_headers(lowered)
    text = payload_text(body, lowered.get("content-type"))
    return Delivery(event, delivery_id, decode_json(text), delivery_meta(lowered), text)


class _Envelope(msgspec.Struct):
    """What the receiver reads of a payload: the rest is checked to be JSON, and skipped."""

    action: Any = None
    hook_id: Any = None


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_JSON_TYPES = {"[": "list", '"': "str", "t": "bool", "f": "bool", "n": "NoneType"}


@dataclass(frozen=True)
class Received:
    """A verified delivery whose payload is known to be a JSON object, kept as its text."""

    event: str
    delivery_id: str
    action: str | None
    hook_id: int | None
    meta: dict[str, str]
    raw: bytes | str  # the payload's JSON text, stored as it came

    @property
    def event_name(self) -> str:
        """Return the event name: `github/<event>.<action>` or `github/<event>`."""
        return event_name(self.event, self.action)

    @property
    def is_ping(self) -> bool:
        """Tell whether this is the ping GitHub sends when a hook is created."""
        return self.event == "ping"


def _kind(raw: bytes | str) -> str:
    """Name the Python type of a JSON text that is not an object, as `decode_json` says it."""
    text = raw.strip()[:32]
    head = text.decode(errors="replace") if isinstance(text, bytes) else text
    if head[:1] in _JSON_TYPES:
        return _JSON_TYPES[head[:1]]
    return "int" if head.lstrip("-").isdigit() else "float"


def check_json(raw: bytes | str) -> tuple[str | None, int | None]:
    """Check that `raw` is one JSON object as `decode_json` would, without building it; return
    its `action` and `hook_id` (when they are a non-empty string and an integer).

    A fifth of the cost of decoding a 22 KB payload: nested values are validated, not made.
    """
    try:
        if isinstance(raw, bytes):
            raw.decode("utf-8")  # skipped strings are not checked for UTF-8 by the parser
        envelope = _ENVELOPE.decode(raw)
    except UnicodeDecodeError:
        raise BadDeliveryError("invalid JSON: the body is not UTF-8") from None
    except msgspec.ValidationError:
        raise BadDeliveryError(f"payload must be a JSON object, got {_kind(raw)}") from None
    except RecursionError:
        raise BadDeliveryError("invalid JSON: nested too deeply") from None
    except msgspec.DecodeError as exc:
        raise BadDeliveryError(f"invalid JSON: {exc}") from None
    action, hook_id = envelope.action, envelope.hook_id
    return (
        action if isinstance(action, str) and action else None,
        hook_id if isinstance(hook_id, int) and not isinstance(hook_id, bool) else None,
    )


def receive_delivery(headers: Mapping[str, str], body: bytes, secret: str | None) -> Received:
    """Verify (unless `secret` is None) and check one delivery; raise WebhookError.

    `headers` have lower-case names. The payload is checked, not decoded: a worker decodes it.
    """
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"body exceeds {MAX_BODY_BYTES} bytes")
    if secret is not None:
        verify_signature(body, headers.get(SIGNATURE_HEADER.lower()), secret)
    event, delivery_id = _ids(headers)
    kind = media_type(headers.get("content-type"))
    if kind not in ("", JSON_TYPE, FORM_TYPE):
        raise UnsupportedMediaTypeError(
            f"unsupported Content-Type: expected {JSON_TYPE} or {FORM_TYPE}"
        )
    raw: bytes | str = decode_form(body) if kind == FORM_TYPE else body
    action, hook_id = check_json(raw)
    return Received(event, delivery_id, action, hook_id, _meta(headers), raw)


def header_ids(headers: Mapping[str, str]) -> tuple[str, str]:
    """Return (event, delivery id) for logging a refused delivery; `-` where absent or invalid."""
    lowered = lower_keys(headers)
    event = lowered.get(EVENT_HEADER.lower(), "").strip()
    delivery_id = lowered.get(DELIVERY_HEADER.lower(), "").strip()
    return (
        event if _EVENT_NAME.fullmatch(event) else "-",
        delivery_id if _DELIVERY_ID.fullmatch(delivery_id) else "-",
    )
