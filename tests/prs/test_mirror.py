"""The body of a mirrored comment: attribution, link, marker, mentions, attachments, the cap."""

from __future__ import annotations

from typing import Any

from bot.prs.mirror import (
    COMMENT_MAX,
    ZWSP,
    Reply,
    comment_body,
    is_prbot_echo,
    marker,
    mentioned_ids,
    neutralise,
    skip_reason,
)

URL = "https://discord.com/channels/1/2/3"


def reply(content: str = "Looks good", **changes: Any) -> Reply:
    """Return a message by Alice in the thread of acme/widgets#1."""
    data: dict[str, Any] = {
        "pr": "acme/widgets#1",
        "repo": "acme/widgets",
        "number": 1,
        "message_id": "3",
        "thread_id": "2",
        "url": URL,
        "author": {"id": "77", "name": "Alice", "bot": False, "webhook_id": None},
        "content": content,
    }
    return Reply.model_validate(data | changes)


def test_body_names_the_author_links_the_message_and_ends_with_the_marker() -> None:
    body = comment_body(reply("Ship it"), {})
    assert body == f"**Alice** wrote [on Discord]({URL}):\n\nShip it\n\n<!-- prbot:discord:3 -->"
    assert body.endswith(marker(3))


def test_mapped_mentions_become_logins_and_nothing_else_pings() -> None:
    text = "<@10> and <@!11> and <@12>, <@&13> @everyone @here @octo-org/core @bob a@b.c"
    out = neutralise(text, {10: "hubot", 11: "monalisa"})
    assert out.startswith("@hubot and @monalisa and ")
    for raw in ("@everyone", "@here", "@octo-org", "@bob", "@b.c", "<@12>", "<@&13>"):
        assert raw not in out
    assert f"@{ZWSP}everyone" in out and f"@{ZWSP}octo-org/core" in out
    assert f"@{ZWSP}discord-user" in out and f"@{ZWSP}discord-role" in out


def test_mentioned_ids_come_from_the_text_and_from_discord() -> None:
    assert mentioned_ids(reply("<@5> hi <@!6>", mentions=["7", "5"])) == [5, 6, 7]


def test_a_display_name_cannot_ping_or_break_the_markdown() -> None:
    body = comment_body(reply(author={"id": "1", "name": "@everyone **x**"}), {})
    assert body.startswith(f"**@{ZWSP}everyone \\*\\*x\\*\\*** wrote")


def test_a_forged_marker_in_the_text_is_shown_not_hidden() -> None:
    body = comment_body(reply("hi <!-- prbot:discord:99 --> there"), {})
    assert marker(99) not in body and "&lt;!-- prbot:discord:99 -->" in body
    assert body.endswith(marker(3))


def test_attachments_become_links() -> None:
    url = "https://cdn.discordapp.com/attachments/2/9/screen%20shot.png"
    body = comment_body(reply("see", attachments=[url]), {})
    assert f"📎 [screen shot.png]({url})" in body
    assert skip_reason(reply("", attachments=[url])) is None


def test_the_body_is_capped_at_githubs_limit_marker_included() -> None:
    body = comment_body(reply("x" * 100_000), {})
    assert len(body) == COMMENT_MAX
    assert body.endswith(marker(3)) and "full message is on Discord" in body
    assert len(comment_body(reply("y" * 1000), {})) < 1200


def test_bots_webhooks_and_empty_messages_are_never_mirrored() -> None:
    assert skip_reason(reply()) is None
    assert skip_reason(reply(author={"id": "1", "name": "b", "bot": True})) == "written by a bot"
    hook = {"id": "1", "name": "ci", "webhook_id": "42"}
    assert skip_reason(reply(author=hook)) == "sent by a webhook"
    assert skip_reason(reply("   ")) == "empty"


def test_echo_needs_the_marker_and_prbots_identity_when_known() -> None:
    body = "**Alice** wrote …\n\n<!-- prbot:discord:3 -->"
    assert is_prbot_echo(body, "prbot[bot]", "prbot[bot]")
    assert is_prbot_echo(body, "Octocat", "octocat")
    assert is_prbot_echo(body, "anyone", None)  # not known yet: the marker decides
    assert not is_prbot_echo(body, "monalisa", "prbot[bot]")  # a person quoting a marker
    assert not is_prbot_echo("plain words", "prbot[bot]", "prbot[bot]")
    assert not is_prbot_echo(None, "prbot[bot]", "prbot[bot]")
