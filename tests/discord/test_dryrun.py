"""The dry-run adapter: one deterministic transcript line per action."""

from __future__ import annotations

import io

import pytest

from bot.discord import DiscordApiError, EmbedField, EmbedSpec, OutMessage, ThreadEdit, open_adapter
from bot.discord.dryrun import DryRunAdapter
from bot.settings import load_settings


async def script(adapter: DryRunAdapter) -> None:
    """Do one of every action."""
    forum = await adapter.channel(9)
    text = await adapter.channel(5)
    thread = await adapter.create_thread(text.id, "#1 First", 10080)
    embed = EmbedSpec(
        "#1 First",
        "https://x.test/1",
        "line one\nline two",
        "octocat",
        (EmbedField("Branches", "`main` ← `f`"),),
    )
    await adapter.send(thread.id, OutMessage("", (embed,)), "n1")
    await adapter.send(thread.id, OutMessage("hi <@7>", (), (7,)), "n2")
    await adapter.send(thread.id, OutMessage("hi <@7>", (), (7,)), "n2")  # a repeat: dropped
    await adapter.edit_thread(thread.id, ThreadEdit(name="#1 Renamed"))
    await adapter.edit_thread(thread.id, ThreadEdit(archived=True, locked=True))
    await adapter.edit_thread(thread.id, ThreadEdit(archived=False, locked=False))
    post = await adapter.create_forum_post(
        forum.id, "#2 Post", OutMessage("intro"), 4320, [forum.tags["open"]]
    )
    await adapter.edit_thread(post.id, ThreadEdit(applied_tags=(forum.tags["merged"],)))


async def test_transcript_is_readable_and_deterministic() -> None:
    first, second = io.StringIO(), io.StringIO()
    a = DryRunAdapter(out=first, forums={9: ["open", "merged"]})
    b = DryRunAdapter(out=second, forums={9: ["open", "merged"]})
    await script(a)
    await script(b)
    assert first.getvalue() == second.getvalue()
    assert a.lines == [
        'thread 10001 created in channel 5: "#1 First"',
        'thread 10001 message: [embed "#1 First" <https://x.test/1> by octocat '
        "Branches=`main` ← `f` : line one\\nline two]",
        "thread 10001 message: hi <@7> (may ping 7)",
        'thread 10001 renamed "#1 First" -> "#1 Renamed"',
        "thread 10001 archived, locked",
        "thread 10001 unarchived, unlocked",
        'forum post 10002 created in channel 9: "#2 Post" tags [open]',
        "thread 10002 message: intro",
        "thread 10002 tagged [merged]",
    ]
    assert first.getvalue().splitlines() == a.lines


async def test_long_descriptions_are_shortened_in_the_transcript() -> None:
    adapter = DryRunAdapter(echo=False)
    thread = await adapter.create_thread(5, "#1", 60)
    await adapter.send(thread.id, OutMessage("", (EmbedSpec(description="x" * 1000),)), "n")
    assert adapter.lines[-1].endswith("…(+700 chars)]")


async def test_a_message_to_a_channel_says_channel() -> None:
    adapter = DryRunAdapter(echo=False)
    await adapter.send(300, OutMessage("📋 digest"), "n")
    assert adapter.lines == ["channel 300 message: 📋 digest"]


async def test_no_token_means_dry_run() -> None:
    adapter = await open_adapter(load_settings({}))
    assert isinstance(adapter, DryRunAdapter)
    await adapter.close()


async def test_reads_back_what_the_session_did() -> None:
    adapter = DryRunAdapter(echo=False)
    thread = await adapter.create_thread(5, "#1 First", 10080)
    first = await adapter.send(thread.id, OutMessage("one"), "n1")
    second = await adapter.send(thread.id, OutMessage("two"), "n2")
    assert [m.content for m in await adapter.own_messages(thread.id, None)] == ["one", "two"]
    assert [m.id for m in await adapter.own_messages(thread.id, first)] == [second]
    await adapter.edit_thread(thread.id, ThreadEdit(archived=True))
    assert (await adapter.thread(thread.id)).archived
    with pytest.raises(DiscordApiError):
        await adapter.thread(424242)
    lines = len(adapter.lines)
    await adapter.own_messages(thread.id, None)
    assert len(adapter.lines) == lines  # reads write no transcript line
