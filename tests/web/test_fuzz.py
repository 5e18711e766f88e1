"""Fuzz the webhook route with random headers and bodies: it may refuse, but never answer 5xx."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.github.webhooks import sign
from bot.runtime import Context, Runtime, Store, function
from bot.settings import load_settings
from bot.web.app import create_app
from tests.web import SECRET, recorded

URL = "/webhooks/github"
OK = {200, 202, 400, 401, 413, 415}


@function("t", "github/*")
async def anything(ctx: Context) -> None:
    """Trigger on every GitHub event so accepted deliveries make runs."""


@pytest.fixture
async def client(real_store: Store) -> AsyncIterator[httpx.AsyncClient]:
    """Yield a client of the app on the real Redis."""
    app = create_app(
        load_settings({"GITHUB_WEBHOOK_SECRET": SECRET}), Runtime(real_store, [anything])
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


# Header values as HTTP carries them: visible latin-1 text, no line breaks.
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=80)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
events = st.sampled_from(["pull_request", "ping", "push", "issue_comment", ""]) | header_text
content_types = (
    st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain", ""])
    | header_text
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    """Draw raw bytes, any JSON, a form with a payload field, or a real delivery."""
    kind = draw(st.sampled_from(["bytes", "json", "form", "real"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "real":
        return recorded("pull_request", "opened").body
    text = json.dumps(draw(json_values))
    return urlencode({"payload": text}).encode() if kind == "form" else text.encode()


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    """Draw a body and headers, signed right about half of the time."""
    body = draw(bodies())
    headers = {
        "X-GitHub-Event": draw(events),
        "X-GitHub-Delivery": draw(st.uuids().map(str) | header_text),
        "Content-Type": draw(content_types),
    }
    signature = draw(
        st.sampled_from(["right", "wrong"]).map(
            lambda how: sign(body, SECRET if how == "right" else "nope")
        )
        | header_text
    )
    headers["X-Hub-Signature-256"] = signature
    dropped = draw(st.sets(st.sampled_from(sorted(headers))))
    return body, {k: v for k, v in headers.items() if k not in dropped}


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(delivery=deliveries())
async def test_random_deliveries_never_get_a_5xx(
    client: httpx.AsyncClient, delivery: tuple[bytes, dict[str, str]]
) -> None:
    body, headers = delivery
    raw = {name.encode(): value.encode("latin-1") for name, value in headers.items()}
    response = await client.post(URL, content=body, headers=raw)
    event(f"status {response.status_code}")
    assert response.status_code in OK, response.text
    if response.status_code >= 400:
        assert response.json()["error"]
