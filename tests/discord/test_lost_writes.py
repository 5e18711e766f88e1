"""Writes whose answer is lost, and what the door reads to find them: history and threads."""

from __future__ import annotations

import pytest

from bot.discord import EmbedSpec, OutMessage, PostedMessage, ThreadEdit, is_posting_of
from bot.discord.rest import DiscordRestAdapter
from bot.runtime import RetriableError
from tests.discord.world import FakeTimeSleeps, World
from tests.fakes.discord_models import Message, User

MESSAGES = "/channels/{channel_id}/messages"
THREADS = "/channels/{channel_id}/threads"
CHANNEL = "/channels/{channel_id}"


async def test_a_dropped_answer_to_a_post_is_retriable_and_not_repeated(
    world: World, adapter: DiscordRestAdapter
) -> None:
    thread = await adapter.create_thread(world.text.id, "#1", 1440)
    world.fake.faults.lose_next("POST", MESSAGES, drop=True)
    with pytest.raises(RetriableError, match="network error"):
        await adapter.send(thread.id, OutMessage("x"), "n")
    assert [m.content for m in world.fake.messages_in(thread.id)] == ["x"]
    assert world.fake.requests.statuses("POST", MESSAGES) == [0]


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_a_thread_created_behind_a_5xx_is_made_once(
    world: World, adapter: DiscordRestAdapter, status: int
) -> None:
    world.fake.faults.fail_next("POST", THREADS, status, apply=True)
    with pytest.raises(RetriableError, match=f"Discord {status}"):
        await adapter.create_thread(world.text.id, "#2 T", 1440)
    assert [t.name for t in world.fake.threads_in(world.text.id)] == ["#2 T"]


async def test_a_lost_archive_is_not_repeated_into_the_archived_rule(
    world: World, adapter: DiscordRestAdapter
) -> None:
    thread = await adapter.create_thread(world.text.id, "#3", 1440)
    # Repeated blindly, this PATCH would meet its own archive: 400 "Thread is archived".
    world.fake.faults.lose_next("PATCH", CHANNEL)
    with pytest.raises(RetriableError):
        await adapter.edit_thread(thread.id, ThreadEdit(archived=True))
    assert (await adapter.thread(thread.id)).archived
    assert world.fake.requests.statuses("PATCH", CHANNEL) == [502]


async def test_reads_keep_discord_py_retries(
    world: World, adapter: DiscordRestAdapter, fast_sleeps: FakeTimeSleeps
) -> None:
    world.fake.faults.fail_next("GET", CHANNEL, 502)
    assert (await adapter.channel(world.text.id)).id == world.text.id
    assert world.fake.requests.statuses("GET", CHANNEL) == [502, 200]
    assert 1 in fast_sleeps.delays


async def test_recorder_sees_the_lost_write(world: World, fast_sleeps: FakeTimeSleeps) -> None:
    calls: list[tuple[str, int]] = []
    adapter = await DiscordRestAdapter.login(
        world.fake.token, world.fake.api_base, sleep=fast_sleeps.sleep,
        recorder=lambda route, status: calls.append((route, status)),
    )  # fmt: skip
    try:
        world.fake.faults.lose_next("POST", THREADS)
        with pytest.raises(RetriableError):
            await adapter.create_thread(world.text.id, "#4", 1440)
    finally:
        await adapter.close()
    assert calls[-1] == ("POST /channels/{id}/threads", 502)


async def test_own_messages_after_a_message_page_forward(
    world: World, adapter: DiscordRestAdapter
) -> None:
    thread = await adapter.create_thread(world.text.id, "#5", 1440)
    sent = [await adapter.send(thread.id, OutMessage(f"m{i}"), f"n{i}") for i in range(205)]
    found = await adapter.own_messages(thread.id, sent[2])
    assert [m.id for m in found] == sent[3:]  # three pages of 100, oldest first
    newest = await adapter.own_messages(thread.id, None)
    assert [m.content for m in newest] == [f"m{i}" for i in range(105, 205)]


async def test_own_messages_leave_out_other_authors(
    world: World, adapter: DiscordRestAdapter
) -> None:
    thread = await adapter.create_thread(world.text.id, "#6", 1440)
    mine = await adapter.send(thread.id, OutMessage("mine"), "n1")
    state = world.fake.state
    someone = User(state.ids.next(), "someone")
    said = Message(state.ids.next(), thread.id, world.guild.id, someone, "mine", [], 0.0)
    state.messages[thread.id].append(said)  # a person wrote the same words
    assert [m.id for m in await adapter.own_messages(thread.id, None)] == [mine]


async def test_own_messages_read_back_as_they_were_sent(
    world: World, adapter: DiscordRestAdapter
) -> None:
    thread = await adapter.create_thread(world.text.id, "#7", 1440)
    embed = EmbedSpec("💬 hubot commented", "https://x.test/c/1", "text ", "hubot")
    sent = OutMessage("", (embed,))
    await adapter.send(thread.id, sent, "n1")
    (posted,) = await adapter.own_messages(thread.id, None)
    assert is_posting_of(posted, sent)
    assert not is_posting_of(posted, OutMessage("", (EmbedSpec("other", embed.url),)))
    assert not is_posting_of(posted, OutMessage("text"))


def test_a_posting_is_recognised_by_its_content_and_embeds() -> None:
    sent = OutMessage("✅ **hubot** approved", (EmbedSpec(description="LGTM", url="u"),))
    same = PostedMessage(1, "✅ **hubot** approved ", (EmbedSpec(None, "u", "LGTM"),))
    assert is_posting_of(same, sent)
    assert not is_posting_of(PostedMessage(1, "✅ **hubot** approved"), sent)
    assert not is_posting_of(
        PostedMessage(1, sent.content, (EmbedSpec(None, "u", "LGTM 🎉"),)), sent
    )


async def test_thread_reads_the_state_discord_has(
    world: World, adapter: DiscordRestAdapter
) -> None:
    made = await adapter.create_thread(world.text.id, "#8 Before", 1440)
    world.fake.state.threads[made.id].name = "#8 After"  # changed by someone else
    seen = await adapter.thread(made.id)
    assert (seen.id, seen.name, seen.archived) == (made.id, "#8 After", False)
