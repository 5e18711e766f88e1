"""Races around a PR's close (renames run beside its queue, steps retry): it ends archived."""

from __future__ import annotations

from bot.discord import ThreadEdit
from bot.discord.rest import DiscordRestAdapter
from bot.github.payloads import Subject, User
from bot.prs.deps import Deps
from bot.prs.threads import Threads
from bot.runtime import Store
from bot.settings import load_settings
from tests.discord.world import World


async def test_a_rename_landing_after_the_close_archives_the_thread_again(
    world: World, adapter: DiscordRestAdapter
) -> None:
    # Found by the soak (and a restart test): the close archived the thread just before the
    # rename's PATCH, which then unarchived it to apply the name and left it open.
    store = Store.connect(None, prefix="t")
    threads = Threads(
        Deps.build(load_settings({"DISCORD_CHANNEL_ID": str(world.text.id)}), store, adapter)
    )
    subject = Subject(
        repo="o/r",
        number=7,
        title="Old",
        url="https://github.com/o/r/pull/7",
        author=User(login="a"),
    )
    ensured = await threads.ensure(subject, True, "intro")
    assert ensured is not None
    await threads.want_title("o/r#7", "New")
    # The close, seen by the rename only through the store's `state`: Discord archived it.
    await threads.records.update("o/r#7", state="merged")
    await adapter.edit_thread(ensured["thread_id"], ThreadEdit(archived=True))
    assert await threads.apply_title("o/r", 7) == "renamed"
    [thread] = world.fake.threads_in(world.text.id)
    assert thread.name == "#7 New" and thread.archived
    record = await threads.records.get("o/r#7")
    assert record is not None and record.archived
    await store.close()


async def test_closing_a_forum_post_already_archived_keeps_it_archived(
    world: World, adapter: DiscordRestAdapter
) -> None:
    # Found by the soak: a rename had re-archived the post before the close's status step,
    # whose tag-only PATCH then had to say `archived: false` and left the merged PR open.
    store = Store.connect(None, prefix="t")
    settings = load_settings({"DISCORD_CHANNEL_ID": str(world.forum.id)})
    threads = Threads(Deps.build(settings, store, adapter))
    subject = Subject(
        repo="o/r", number=8, title="T", url="https://github.com/o/r/pull/8", author=User(login="a")
    )
    ensured = await threads.ensure(subject, True, "intro")
    assert ensured is not None
    await adapter.edit_thread(ensured["thread_id"], ThreadEdit(archived=True))
    await threads.records.update("o/r#8", archived=True)
    assert await threads.set_state(subject, "merged", None, True)
    [post] = world.fake.threads_in(world.forum.id)
    merged = {t.id for t in world.forum.available_tags if t.name == "merged"}
    assert post.archived and set(post.applied_tags) == merged
    await store.close()


async def test_a_rename_retried_after_renaming_still_archives_the_closed_pr(
    world: World, adapter: DiscordRestAdapter
) -> None:
    # Found by the soak: the attempt that renamed (unarchiving the just-closed thread) was cut
    # short before it archived again; the retry found the name right and stopped there.
    store = Store.connect(None, prefix="t")
    settings = load_settings({"DISCORD_CHANNEL_ID": str(world.text.id)})
    threads = Threads(Deps.build(settings, store, adapter))
    subject = Subject(
        repo="o/r", number=9, title="T", url="https://github.com/o/r/pull/9", author=User(login="a")
    )
    assert await threads.ensure(subject, True, "intro") is not None
    await threads.want_title("o/r#9", "T")  # the name is already right
    await threads.records.update("o/r#9", state="merged")  # but the thread is open
    assert await threads.apply_title("o/r", 9) == "unchanged"
    [thread] = world.fake.threads_in(world.text.id)
    assert thread.archived
    await store.close()
