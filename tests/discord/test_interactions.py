"""The pure part of interactions: Ed25519 verification and parsing Discord's payloads."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bot.discord.interactions import (
    InteractionError,
    command_slug,
    deferred,
    parse,
    said,
    verify,
)
from tests.fakes.discord_app import FakeApplication
from tests.fakes.discord_clock import FakeClock, Snowflakes
from tests.fakes.discord_interactions import MANAGE_GUILD, InteractionSender, Member

KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
APP = FakeApplication(77, FakeClock(), Snowflakes(FakeClock()))
SENDER = InteractionSender(APP, "http://unused")
ALICE = Member(555, "alice")


def body_of(payload: dict[str, object]) -> bytes:
    """Return the payload as Discord sends it, id and token included."""
    return json.dumps(APP.open_interaction(payload).payload).encode()


def test_only_the_applications_signature_over_timestamp_and_body_passes() -> None:
    body, stamp = b'{"type":1}', "1714557600"
    signature = KEY.sign(stamp.encode() + body).hex()
    verify(PUBLIC, signature, stamp, body)
    for sig, ts, raw in [
        (signature, "1714557601", body),  # another timestamp
        (signature, stamp, body + b" "),  # another body
        ("", stamp, body),
        (signature, "", body),
        ("zz", stamp, body),  # missing, not hex
    ]:
        with pytest.raises(InteractionError) as refused:
            verify(PUBLIC, sig, ts, raw)
        assert refused.value.status == 401


def test_a_subcommand_with_options_parses_into_an_invocation() -> None:
    root = Member(9, "root", MANAGE_GUILD)
    options = {"member": "42", "github_login": "octocat"}
    payload = SENDER.slash("prbot", "link", options, member=root, guild_id=1, channel_id=2)
    found = parse(body_of(payload))
    assert found is not None
    assert (found.name, found.options) == (
        "prbot.link",
        {"member": "42", "github_login": "octocat"},
    )
    assert (found.user_id, found.user_name, found.guild_id, found.channel_id) == (9, "root", 1, 2)
    assert found.application_id == 77 and found.token.startswith("aW50")
    member = parse(body_of(SENDER.slash("pr", "status", member=ALICE, guild_id=1, channel_id=2)))
    assert found.is_admin and member is not None and not member.is_admin


def test_a_message_command_carries_its_target() -> None:
    target = {
        "id": "900",
        "channel_id": "2",
        "content": "ship it",
        "author": {"id": "555", "username": "alice", "global_name": "Alice"},
    }
    payload = SENDER.message_command("Post to PR", target, member=ALICE, guild_id=1, channel_id=2)
    found = parse(body_of(payload))
    assert found is not None and found.name == "post-to-pr"
    assert found.target is not None
    shown = (found.target.id, found.target.author_name, found.target.content)
    assert shown == (900, "Alice", "ship it")


def test_ping_parses_to_none_and_nonsense_is_a_400() -> None:
    assert parse(body_of(SENDER.ping())) is None
    for raw in (b"not json", b'{"type": 2}', b'{"id":"1","application_id":"2","type":3}'):
        with pytest.raises(InteractionError) as refused:
            parse(raw)
        assert refused.value.status == 400


def test_a_command_used_in_a_dm_is_never_an_admins() -> None:
    payload = {
        "type": 2,
        "user": {"id": "5", "username": "eve"},
        "data": {"name": "prbot", "options": [{"type": 1, "name": "failed"}]},
    }
    found = parse(body_of(payload))
    assert found is not None and found.guild_id is None and not found.is_admin


def test_answers_are_ephemeral_and_ping_nobody() -> None:
    assert deferred() == {"type": 5, "data": {"flags": 64}}
    assert said("@everyone hi")["data"] == {
        "content": "@everyone hi",
        "flags": 64,
        "allowed_mentions": {"parse": []},
    }
    assert command_slug(" Post to PR ") == "post-to-pr"
