"""Re-adoption however old, and mappings that expire once their PR is long closed.

On the fake Discord over HTTP, with the store on both the embedded and the real Redis.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.discord import OutMessage
from bot.discord.rest import DiscordRestAdapter
from bot.github.payloads import Subject, User
from bot.prs.archive import INDEX_TTL_MS, SCAN_PAGES, ArchiveIndex
from bot.prs.deps import Deps
from bot.prs.effects import Attempts
from bot.prs.finder import ThreadFinder
from bot.prs.mapping import ThreadStore
from bot.prs.retention import KEEP_MS
from bot.prs.threads import Threads
from bot.runtime import RetryAfterError, Store
from bot.settings import load_settings
from tests.discord.world import World
from tests.fakes import discord_threads
from tests.fakes.discord_models import Thread

OPENED = datetime(2024, 5, 1, tzinfo=UTC)
ARCHIVED = "/channels/{channel_id}/threads/archived/public"
DAY_S = 86_400


def subject(number: int, opened: datetime | None = OPENED) -> Subject:
    """Return PR `number` of o/r."""
    url = f"https://github.com/o/r/pull/{number}"
    return Subject(
        repo="o/r", number=number, title="T", url=url, author=User(login="a"), created_at=opened
    )


def archived_thread(world: World, name: str) -> Thread:
    """Make a thread in the text channel and archive it a second after the previous one."""
    state = world.fake.state
    made = discord_threads.create_thread(state, world.text.id, {"name": name, "type": 11})
    world.fake.advance(1)
    discord_threads.edit_channel(state, int(made["id"]), {"archived": True})
    return state.thread(int(made["id"]))


class Clock:
    """Epoch seconds the mapping reads, moved by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).timestamp()

    def __call__(self) -> float:
        return self.now


def finder_on(
    world: World, store: Store, adapter: DiscordRestAdapter, clock: Clock | None = None
) -> ThreadFinder:
    """Return a finder routing o/r to the text channel, its mapping on `clock`."""
    deps = Deps.build(load_settings({"DISCORD_CHANNEL_ID": str(world.text.id)}), store, adapter)
    records = ThreadStore(store, now_s=clock or Clock())
    return ThreadFinder(deps, records, Attempts(store))


async def find_on_continuing(finder: ThreadFinder, number: int) -> tuple[object, int]:
    """Find the PR's thread as its step would, again after each uncounted continuation."""
    slices = 0
    while True:
        try:
            return await finder.find("o/r", number, OPENED), slices
        except RetryAfterError as more:
            assert not more.counted
            slices += 1


async def test_a_wiped_store_finds_the_oldest_of_2500_archived_threads(
    world: World, adapter: DiscordRestAdapter, store: Store
) -> None:
    mine = archived_thread(world, "#42 The oldest of all")
    for n in range(1000, 3500):
        archived_thread(world, f"#{n} Someone else's")
    finder = finder_on(world, store, adapter)  # an empty store: it holds no mapping at all
    record, slices = await find_on_continuing(finder, 42)
    assert record is not None and record.thread_id == mine.id  # type: ignore[attr-defined]
    assert slices == 1  # 26 pages: SCAN_PAGES in the first step, the rest in the next
    assert world.fake.requests.count("GET", ARCHIVED) == SCAN_PAGES + 1 + 6  # + a catch-up
    # Another PR of the same channel: its thread comes from the index, no paging back again.
    before = world.fake.requests.count("GET", ARCHIVED)
    other = await finder.find("o/r", 1000, OPENED)
    assert other is not None and other.name == "#1000 Someone else's"
    assert world.fake.requests.count("GET", ARCHIVED) - before == 1


async def test_a_wiped_store_posts_in_the_old_thread(
    world: World, adapter: DiscordRestAdapter, store: Store
) -> None:
    settings = load_settings({"DISCORD_CHANNEL_ID": str(world.text.id)})
    threads = Threads(Deps.build(settings, store, adapter))
    await threads.ensure(subject(42), True, "intro")
    await threads.set_state(subject(42), "merged", None, True, "close")
    (mine,) = world.fake.threads_in(world.text.id)
    for n in range(1000, 3500):
        archived_thread(world, f"#{n} Someone else's")
    await store.redis.flushdb()  # the wipe
    while True:
        try:
            await threads.post(subject(42), OutMessage("after the wipe"), "after")
            break
        except RetryAfterError as more:
            assert not more.counted  # a slice of the scan, resumed at once
    assert len(world.fake.threads_in(world.text.id)) == 2501  # no second thread for #42
    assert world.fake.messages_in(mine.id)[-1].content == "after the wipe"


async def test_a_search_that_found_nothing_is_not_made_again(
    world: World, adapter: DiscordRestAdapter, store: Store
) -> None:
    archived_thread(world, "#7 Another PR")
    finder = finder_on(world, store, adapter)
    assert await finder.find("o/r", 8, OPENED) is None
    before = world.fake.requests.count()
    assert await finder.find("o/r", 8, OPENED) is None
    assert world.fake.requests.count() == before  # marked searched: nothing to look for


async def test_a_thread_deleted_since_it_was_indexed_is_not_adopted(
    world: World, adapter: DiscordRestAdapter, store: Store
) -> None:
    gone = archived_thread(world, "#9 Deleted later")
    index = ArchiveIndex(store, adapter)
    assert await index.find(world.text.id, "#8 ") is None  # builds the index
    del world.fake.state.threads[gone.id]
    assert await index.find(world.text.id, "#9 ") is None
    assert await store.redis.zcard(store.keys.data("archived", str(world.text.id))) == 1  # ''


async def test_the_index_expires_with_its_state(
    world: World, adapter: DiscordRestAdapter, store: Store
) -> None:
    archived_thread(world, "#1 One")
    await ArchiveIndex(store, adapter).find(world.text.id, "#2 ")
    for kind in ("archive", "archived"):
        ttl = await store.redis.pttl(store.keys.data(kind, str(world.text.id)))
        assert 0 < ttl <= INDEX_TTL_MS


async def test_a_closed_prs_mapping_expires_and_its_return_readopts_the_thread(
    world: World, adapter: DiscordRestAdapter, store: Store
) -> None:
    clock = Clock()
    finder = finder_on(world, store, adapter, clock)
    records = finder.records
    await records.hold_every_mapping_since(OPENED.timestamp() - DAY_S)  # held all along
    opened_now = datetime.fromtimestamp(clock.now, UTC)
    assert await finder.ensure(subject(5, opened_now), True, "i5")
    key = store.keys.data("thread", "o/r#5")
    assert await store.redis.pttl(key) == -1  # open: kept
    expiring = store.keys.data("meta", "expiring")
    assert await store.redis.zrange(expiring, 0, -1) == []  # nothing noted for an open PR
    await records.update("o/r#5", state="closed")
    assert 0 < await store.redis.pttl(key) <= KEEP_MS
    assert await store.redis.zrange(expiring, 0, -1) == [f"{opened_now.timestamp()!r}|o/r#5"]
    await records.update("o/r#5", state="open")  # reopened
    assert await store.redis.pttl(key) == -1
    assert await store.redis.zrange(expiring, 0, -1) == []
    await records.update("o/r#5", state="merged")
    (thread,) = world.fake.threads_in(world.text.id)
    discord_threads.edit_channel(world.fake.state, thread.id, {"archived": True})
    clock.now += 31 * DAY_S
    await store.redis.delete(key)  # what Redis does once its TTL has passed
    # The PR comes back (a comment, a reopen): its thread is found again, not made again.
    assert await records.may_have_lost("o/r#5", opened_now)
    ensured = await finder.ensure(subject(5, opened_now), True, "i5b")
    assert ensured == {"thread_id": thread.id, "created": False}
    assert len(world.fake.threads_in(world.text.id)) == 1
    # A PR opened after that one still costs no search.
    later = datetime.fromtimestamp(clock.now, UTC)
    assert not await records.may_have_lost("o/r#6", later)


async def test_an_adopted_mapping_expires_until_its_pr_is_said_to_be_open(
    world: World, adapter: DiscordRestAdapter, store: Store
) -> None:
    archived_thread(world, "#3 Old")
    finder = finder_on(world, store, adapter)
    assert await finder.find("o/r", 3, OPENED) is not None
    key = store.keys.data("thread", "o/r#3")
    assert 0 < await store.redis.pttl(key) <= KEEP_MS
    await finder.records.update("o/r#3", state="open")
    assert await store.redis.pttl(key) == -1
