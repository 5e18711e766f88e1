"""URLs from payloads reach Discord only when Discord takes them: http(s), at most 2,048 chars.

A signed delivery can carry any `html_url`; Discord answers 400 to an embed URL that is too long
or not http(s) (the fake enforces it), which used to fail the run and lose the message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.functions.harness import Harness

Make = Callable[..., Any]
LONG = "https://github.com/octo-org/hello-world/pull/46#" + "x" * 100_000


@pytest.mark.parametrize(
    "url", [LONG, "javascript:alert(1)", "ftp://example.com/x", "https://github.com/a b"]
)
async def test_a_comment_with_an_unusable_url_is_posted_without_it(
    make_harness: Make, url: str
) -> None:
    h: Harness = await make_harness()
    await h.play("redelivery", "01-opened")

    def change(payload: dict[str, Any]) -> None:
        payload["comment"]["html_url"] = url

    assert await h.variant("redelivery", "02-comment", "url-variant", change) == "queued"
    await h.settle()
    assert await h.failed_runs() == []
    comment = h.messages(h.thread())[-1]
    [embed] = comment.embeds
    assert "url" not in embed
    assert "commented" in str(embed["title"])


async def test_a_usable_url_is_kept(make_harness: Make) -> None:
    h: Harness = await make_harness()
    await h.play("redelivery", "01-opened", "02-comment")
    [embed] = h.messages(h.thread())[-1].embeds
    assert embed["url"] == "https://github.com/octo-org/hello-world/pull/46#issuecomment-2096896361"
