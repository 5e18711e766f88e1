"""The sans-I/O webhook core: signatures, headers, bodies and the event a delivery becomes."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from bot.github.webhooks import (
    MAX_BODY_BYTES,
    BadDeliveryError,
    PayloadTooLargeError,
    SignatureError,
    UnsupportedMediaTypeError,
    WebhookError,
    decode_body,
    delivery_headers,
    delivery_meta,
    header_ids,
    parse_delivery,
    sign,
    verify_signature,
)
from tests.web import SECRET, recorded

BODY = b'{"action":"opened","number":1}'


def test_sign_matches_githubs_documented_example() -> None:
    # https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert sign(b"Hello, World!", "It's a Secret to Everybody") == expected


def test_verify_accepts_the_right_signature_in_any_case() -> None:
    verify_signature(BODY, sign(BODY, SECRET), SECRET)
    verify_signature(BODY, sign(BODY, SECRET).upper().replace("SHA256", "sha256"), SECRET)


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        (None, "missing X-Hub-Signature-256"),
        ("", "missing X-Hub-Signature-256"),
        ("sha1=" + "0" * 40, "malformed X-Hub-Signature-256"),
        ("sha256=xyz", "malformed X-Hub-Signature-256"),
        (sign(BODY, "another-secret"), "does not match"),
        (sign(BODY + b" ", SECRET), "does not match"),
    ],
)
def test_verify_refuses(signature: str | None, message: str) -> None:
    with pytest.raises(SignatureError, match=message) as info:
        verify_signature(BODY, signature, SECRET)
    assert info.value.status_code == 401


def test_headers_are_case_insensitive() -> None:
    headers = {"x-github-event": "push", "X-GITHUB-DELIVERY": "abc-123"}
    assert delivery_headers(headers) == ("push", "abc-123")


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"X-GitHub-Delivery": "d1"}, "missing X-GitHub-Event"),
        ({"X-GitHub-Event": " ", "X-GitHub-Delivery": "d1"}, "missing X-GitHub-Event"),
        ({"X-GitHub-Event": "push"}, "missing X-GitHub-Delivery"),
        ({"X-GitHub-Event": "Push Event", "X-GitHub-Delivery": "d1"}, "invalid X-GitHub-Event"),
        ({"X-GitHub-Event": "push", "X-GitHub-Delivery": "a b"}, "invalid X-GitHub-Delivery"),
        ({"X-GitHub-Event": "push", "X-GitHub-Delivery": "x" * 129}, "invalid X-GitHub-Delivery"),
    ],
)
def test_bad_headers(headers: dict[str, str], message: str) -> None:
    with pytest.raises(BadDeliveryError, match=message):
        delivery_headers(headers)


def test_header_ids_never_echo_invalid_values() -> None:
    assert header_ids({"X-GitHub-Event": "x\ny", "X-GitHub-Delivery": "ok-1"}) == ("-", "ok-1")


def test_decode_json_and_form() -> None:
    assert decode_body(BODY, "application/json") == {"action": "opened", "number": 1}
    assert decode_body(BODY, "application/json; charset=utf-8")["number"] == 1
    assert decode_body(BODY, None)["number"] == 1
    form = urlencode({"payload": BODY.decode()}).encode()
    assert decode_body(form, "application/x-www-form-urlencoded")["number"] == 1


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"{nope", "application/json", "invalid JSON"),
        (b"", "application/json", "invalid JSON"),
        (b"\xff\xfe\x00", "application/json", "invalid JSON"),
        (b'{"a": NaN}', "application/json", "invalid JSON: NaN"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "invalid JSON"),
        (b"[1, 2]", "application/json", "must be a JSON object, got list"),
        (b'"text"', "application/json", "must be a JSON object, got str"),
        (b"other=1", "application/x-www-form-urlencoded", "exactly one 'payload' field"),
        (b"payload=1&payload=2", "application/x-www-form-urlencoded", "exactly one 'payload'"),
        (b"payload=%7Bx", "application/x-www-form-urlencoded", "invalid JSON"),
        (b"payload=%ff", "application/x-www-form-urlencoded", "invalid form body"),
        (b"payload=null", "application/x-www-form-urlencoded", "got NoneType"),
    ],
)
def test_bad_bodies(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(BadDeliveryError, match=message):
        decode_body(body, content_type)


def test_unsupported_content_type() -> None:
    with pytest.raises(UnsupportedMediaTypeError, match="unsupported Content-Type") as info:
        decode_body(BODY, "text/plain")
    assert info.value.status_code == 415


def test_pull_request_delivery_becomes_an_event() -> None:
    sample = recorded("pull_request", "opened")
    delivery = parse_delivery(sample.headers("d-1"), sample.body, SECRET)
    event = delivery.to_event()
    assert (event.name, event.id) == ("github/pull_request.opened", "d-1")
    assert event.data == sample.payload()
    assert delivery.meta["X-GitHub-Delivery"] == "d-1"
    assert "X-Hub-Signature-256" not in delivery.meta


def test_event_without_action_has_no_suffix() -> None:
    sample = recorded("push")
    delivery = parse_delivery(sample.headers("d-2"), sample.body, SECRET)
    assert delivery.event_name == "github/push"


def test_ping_names_its_hook() -> None:
    sample = recorded("ping")
    delivery = parse_delivery(sample.headers("d-3"), sample.body, SECRET)
    assert delivery.is_ping
    assert delivery.hook_id == sample.payload()["hook_id"]


def test_signature_is_checked_before_anything_else() -> None:
    # Even a body that is not JSON, with no event header, is refused for its signature first.
    with pytest.raises(SignatureError):
        parse_delivery({"X-Hub-Signature-256": sign(b"x", "wrong")}, b"x", SECRET)


def test_unsigned_parse_skips_verification() -> None:
    sample = recorded("pull_request", "opened")
    delivery = parse_delivery(sample.headers("d-4", secret=None), sample.body, None)
    assert delivery.event_name == "github/pull_request.opened"


def test_parse_refuses_oversized_body() -> None:
    with pytest.raises(PayloadTooLargeError) as info:
        parse_delivery({}, b" " * (MAX_BODY_BYTES + 1), SECRET)
    assert info.value.status_code == 413


def test_meta_keeps_only_the_headers_that_matter() -> None:
    meta = delivery_meta(
        {"x-github-event": "push", "Authorization": "x", "x-hub-signature-256": "s"}
    )
    assert meta == {"X-GitHub-Event": "push"}


def test_every_refusal_is_a_webhook_error_that_is_not_retriable() -> None:
    for cls in (SignatureError, BadDeliveryError, PayloadTooLargeError, UnsupportedMediaTypeError):
        assert issubclass(cls, WebhookError)
        assert cls.retriable is False
