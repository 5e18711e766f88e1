"""The recording adapter keeps each thread as Discord would show it, around any adapter."""

from __future__ import annotations

from bot.discord import EmbedField, EmbedSpec, OutMessage, ThreadEdit
from bot.discord.dryrun import DryRunAdapter
from bot.discord.transcript import RecordingAdapter

FORUM = 42


async def test_threads_messages_and_changes_are_recorded_in_order() -> None:
    inner = DryRunAdapter(echo=False, forums={FORUM: ["Open", "Merged"]})
    rec = RecordingAdapter(inner, {FORUM: ["Open", "Merged"]})
    forum = await rec.channel(FORUM)
    embed = EmbedSpec(title="#7 Fix", color=0x2DA44E, fields=(EmbedField("Status", "Open"),))
    post = await rec.create_forum_post(FORUM, "#7 Fix", OutMessage(embeds=(embed,)), 60,
                                       [forum.tags["open"]])  # fmt: skip
    text = await rec.create_thread(9, "#8 Other", 60)
    first = await rec.send(post.id, OutMessage(content="hello"), "nonce-1")
    again = await rec.send(post.id, OutMessage(content="hello"), "nonce-1")  # Discord drops it
    await rec.edit_thread(
        post.id, ThreadEdit(name="#7 Fix it", applied_tags=(forum.tags["merged"],))
    )
    await rec.edit_thread(post.id, ThreadEdit(archived=True, locked=True))
    await rec.send(text.id, OutMessage(content="in a text channel"), "nonce-2")
    await rec.edit_thread(text.id, ThreadEdit(archived=True))
    await rec.send(text.id, OutMessage(content="brought back"), "nonce-3")

    assert first == again
    log = rec.transcript.threads[post.id]
    assert (log.name, log.forum, log.tags, log.archived, log.locked) == (
        "#7 Fix it", True, ["Merged"], True, True,
    )  # fmt: skip
    assert [e.message.embeds[0].title if e.message and e.message.embeds else
            (e.message.content if e.message else e.change) for e in log.entries] == [
        "#7 Fix", "hello", "renamed the thread to “#7 Fix it”", "set the tags to Merged",
        "locked the thread", "archived the thread",
    ]  # fmt: skip
    other = rec.transcript.threads[text.id]
    assert (other.channel_id, other.forum, other.archived) == (9, False, False)  # posting reopens
    assert [e.change for e in other.entries] == ["", "archived the thread", ""]
    assert list(rec.transcript.threads) == [post.id, text.id]
    assert len(inner.lines) == 9  # every call still reached the adapter underneath
