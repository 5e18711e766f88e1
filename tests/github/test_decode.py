"""decode_json's fast path (orjson) decides every payload exactly as the json module does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.github.webhooks import BadDeliveryError, decode_json
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
