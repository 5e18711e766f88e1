"""decode_json decides payloads as the json module does; check_json (the receiver) agrees."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.github.webhooks import BadDeliveryError, check_json, decode_body, decode_json
from tests.web import recorded


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def reference(text: str) -> object:
    """Decode `text` the way the receiver always has: json, NaN and Infinity refused."""
    return json.loads(text, parse_constant=_reject_constant)


# orjson reads integers beyond 64 bits as floats, so values stay within them here (see
# bot/webhooks.py); everything else JSON can say is drawn.
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(payload=st.dictionaries(st.text(max_size=10), documents, max_size=6))
def test_objects_decode_to_what_json_makes(payload: dict[str, object]) -> None:
    for text in (json.dumps(payload), json.dumps(payload, ensure_ascii=False, indent=1)):
        decoded = decode_json(text)
        assert decoded == reference(text)
        assert repr(decoded) == repr(reference(text))  # same types: 1 stays int, 1.0 float


def test_a_real_payload_decodes_as_json_does() -> None:
    text = recorded("pull_request", "opened").body.decode()
    assert decode_json(text) == reference(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1e400}',  # json reads an out-of-range float as inf; orjson refuses it
        '{"a": "\\ud800"}',  # a lone surrogate escape: json keeps it, orjson refuses it
        '{"a": ' + "[" * 600 + "]" * 600 + "}",  # deeper than the fast path takes
        '{"a": 1, "a": 2}',  # the last key wins in both
    ],
)
def test_what_orjson_refuses_is_decided_by_json(text: str) -> None:
    assert repr(decode_json(text)) == repr(reference(text))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": NaN}', "invalid JSON: NaN"),
        ('{"a": -Infinity}', "invalid JSON: -Infinity"),
        ('{"a": 1,}', "invalid JSON: Expecting property name"),
        ("[" * 100_000 + "]" * 100_000, "invalid JSON"),
        ('{"a": [' * 1000 + "]}" * 1000, "invalid JSON: nested too deeply"),
        ("[1, 2]", "must be a JSON object, got list"),
        ("null", "must be a JSON object, got NoneType"),
    ],
)
def test_refusals_say_what_json_says(text: str, message: str) -> None:
    with pytest.raises(BadDeliveryError, match=message):
        decode_json(text)


@settings(max_examples=150, deadline=None)
@given(payload=st.dictionaries(st.text(max_size=10), documents, max_size=6), action=st.text())
def test_the_receiver_accepts_every_object_and_reads_its_action(
    payload: dict[str, object], action: str
) -> None:
    payload["action"] = action
    for text in (json.dumps(payload), json.dumps(payload, ensure_ascii=False, indent=1)):
        for raw in (text, text.encode()):
            assert check_json(raw) == (action or None, None)


def test_the_receiver_reads_a_real_payload_and_a_ping() -> None:
    assert check_json(recorded("pull_request", "opened").body) == ("opened", None)
    assert check_json(b'{"zen": "Keep it simple.", "hook_id": 42}') == (None, 42)
    assert check_json(b'{"action": 5, "hook_id": true}') == (None, None)  # not a name, not an id


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"a": NaN}', "invalid JSON"),
        (b'{"a": -Infinity}', "invalid JSON"),
        (b'{"a": 1,}', "invalid JSON"),
        (b'{"a": {"b": [1, 2}}', "invalid JSON"),  # deep inside: checked though not built
        (b'{"a": 1} x', "invalid JSON"),
        (b"", "invalid JSON"),
        (b'{"a": "\xff\xfe"}', "invalid JSON: the body is not UTF-8"),  # in a skipped string
        (b'{"a": [' * 1000 + b"]}" * 1000, "invalid JSON: nested too deeply"),
        (b"[1, 2]", "must be a JSON object, got list"),
        (b"null", "must be a JSON object, got NoneType"),
        (b"-12", "must be a JSON object, got int"),
        (b"1.5", "must be a JSON object, got float"),
        (b'"text"', "must be a JSON object, got str"),
    ],
)
def test_the_receiver_refuses_what_decoding_refuses(raw: bytes, message: str) -> None:
    with pytest.raises(BadDeliveryError, match=message):
        check_json(raw)
    with pytest.raises(BadDeliveryError):  # and so does the decoder replay and workers use
        decode_body(raw, "application/json")
