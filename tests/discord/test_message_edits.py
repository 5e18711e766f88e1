"""Editing and deleting the bot's messages: the REST adapter on the fake Discord, the dry run."""

from __future__ import annotations

import pytest

from bot.discord import (
    THREAD_ARCHIVED,
    UNKNOWN_MESSAGE,
    DiscordApiError,
    EmbedSpec,
    OutMessage,
    ThreadEdit,
)
from bot.discord.dryrun import DryRunAdapter
from bot.discord.rest import DiscordRestAdapter
from bot.discord.transcript import RecordingAdapter
from bot.runtime import RetriableError
from tests.discord.world import World
from tests.fakes.discord_messages import seed_message
from tests.fakes.discord_models import User

CARD = OutMessage("", (EmbedSpec("#1 Title", "https://github.test/o/r/pull/1", "body"),))


async def test_an_edit_replaces_content_and_embeds_with_explicit_mentions(
    world: World, adapter: DiscordRestAdapter
) -> None:
    thread = await adapter.create_thread(world.text.id, "#1 T", 1440)
    message_id = await adapter.send(thread.id, OutMessage("before <@77>", (), (77,)), "n-1")
    await adapter.edit_message(thread.id, message_id, CARD)
    (edited,) = world.fake.messages_in(thread.id)
    assert edited.content == "" and edited.embeds[0]["title"] == "#1 Title"
    assert edited.allowed_mentions == {"parse": []}  # nobody pinged by the new text
    assert edited.edited_at is not None
    again = OutMessage("@everyone now <@77>", (), (77,))
    await adapter.edit_message(thread.id, message_id, again)
    (edited,) = world.fake.messages_in(thread.id)
    assert (edited.content, edited.embeds) == ("@everyone now <@77>", [])
    assert not edited.pings.everyone and edited.pings.users == (77,)


async def test_an_edit_of_a_gone_message_says_unknown_message(
    world: World, adapter: DiscordRestAdapter
) -> None:
    thread = await adapter.create_thread(world.text.id, "#1 T", 1440)
    with pytest.raises(DiscordApiError) as raised:
        await adapter.edit_message(thread.id, thread.id + 999, CARD)
    assert (raised.value.status, raised.value.code) == (404, UNKNOWN_MESSAGE)


async def test_delete_is_true_once_then_false(world: World, adapter: DiscordRestAdapter) -> None:
    thread = await adapter.create_thread(world.text.id, "#1 T", 1440)
    message_id = await adapter.send(thread.id, OutMessage("x"), "n-1")
    assert await adapter.delete_message(thread.id, message_id) is True
    assert world.fake.messages_in(thread.id) == []
    assert await adapter.delete_message(thread.id, message_id) is False


async def test_an_archived_thread_refuses_edits_and_deletes_until_unarchived(
    world: World, adapter: DiscordRestAdapter
) -> None:
    thread = await adapter.create_thread(world.text.id, "#1 T", 1440)
    message_id = await adapter.send(thread.id, OutMessage("x"), "n-1")
    await adapter.edit_thread(thread.id, ThreadEdit(archived=True))
    for attempt in (
        adapter.edit_message(thread.id, message_id, CARD),
        adapter.delete_message(thread.id, message_id),
    ):
        with pytest.raises(DiscordApiError) as raised:
            await attempt
        assert raised.value.code == THREAD_ARCHIVED
    assert world.fake.state.thread(thread.id).archived  # a refused edit does not unarchive it
    await adapter.edit_thread(thread.id, ThreadEdit(archived=False))
    await adapter.edit_message(thread.id, message_id, CARD)
    assert world.fake.messages_in(thread.id)[0].embeds


async def test_someone_elses_message_cannot_be_edited_or_deleted(
    world: World, adapter: DiscordRestAdapter
) -> None:
    thread = await adapter.create_thread(world.text.id, "#1 T", 1440)
    theirs = seed_message(world.fake.state, thread.id, User(4242, "alice"), "mine")
    with pytest.raises(DiscordApiError) as edit:
        await adapter.edit_message(thread.id, theirs.id, CARD)
    with pytest.raises(DiscordApiError) as delete:
        await adapter.delete_message(thread.id, theirs.id)
    assert (edit.value.status, edit.value.code) == (403, 50005)
    assert (delete.value.status, delete.value.code) == (403, 50013)
    assert world.fake.messages_in(thread.id)[0].content == "mine"


async def test_an_edit_answered_502_is_not_repeated_in_process(
    world: World, adapter: DiscordRestAdapter
) -> None:
    thread = await adapter.create_thread(world.text.id, "#1 T", 1440)
    message_id = await adapter.send(thread.id, OutMessage("x"), "n-1")
    world.fake.faults.lose_next("PATCH", "/channels/{channel_id}/messages/{message_id}")
    with pytest.raises(RetriableError):
        await adapter.edit_message(thread.id, message_id, CARD)
    edits = [r for r in world.fake.requests.records if r.method == "PATCH"]
    assert len(edits) == 1  # discord.py would retry a 502; the step retries later instead
    assert world.fake.messages_in(thread.id)[0].embeds  # carried out, answer lost


async def test_the_dry_run_writes_edit_and_delete_lines_and_keeps_discords_rules() -> None:
    dry = DryRunAdapter(echo=False)
    thread = await dry.create_thread(1, "#1 T", 1440)
    message_id = await dry.send(thread.id, OutMessage("x"), "n-1")
    await dry.edit_message(thread.id, message_id, CARD)
    assert (await dry.own_messages(thread.id, None))[0].embeds == CARD.embeds
    assert await dry.delete_message(thread.id, message_id) is True
    assert await dry.delete_message(thread.id, message_id) is False
    assert dry.lines[-2:] == [
        f'thread {thread.id} edited message {message_id}: [embed "#1 Title" '
        "<https://github.test/o/r/pull/1> : body]",
        f"thread {thread.id} deleted message {message_id}",
    ]
    other = await dry.send(thread.id, OutMessage("y"), "n-2")
    await dry.edit_thread(thread.id, ThreadEdit(archived=True))
    with pytest.raises(DiscordApiError) as raised:
        await dry.edit_message(thread.id, other, CARD)
    assert raised.value.code == THREAD_ARCHIVED


async def test_the_recording_shows_edits_in_place_and_forgets_deleted_messages() -> None:
    recording = RecordingAdapter(DryRunAdapter(echo=False))
    thread = await recording.create_thread(1, "#1 T", 1440)
    first = await recording.send(thread.id, OutMessage("x"), "n-1")
    second = await recording.send(thread.id, OutMessage("y"), "n-2")
    await recording.edit_message(thread.id, first, CARD)
    await recording.delete_message(thread.id, second)
    (entry,) = recording.transcript.threads[thread.id].entries
    assert (entry.message, entry.message_id, entry.edited) == (CARD, first, True)
