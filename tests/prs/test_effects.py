"""Side effects that find themselves: retries after lost answers, on the fake Discord over HTTP.

Every test here lets Discord's nonce window pass before the retry, so only prbot's own search
stands between a lost answer and a double.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.discord import DiscordApiError, OutMessage
from bot.discord.rest import DiscordRestAdapter
from bot.github.payloads import Subject, User
from bot.prs.deps import Deps
from bot.prs.effects import Attempts, post_once
from bot.prs.mapping import CLOCK_MARGIN_S, ThreadStore
from bot.prs.threads import Threads
from bot.runtime import RetriableError, RetryAfterError, Store
from bot.settings import load_settings
from tests.discord.world import World

MESSAGES = "/channels/{channel_id}/messages"
THREADS = "/channels/{channel_id}/threads"
CHANNEL = "/channels/{channel_id}"
PAST_THE_NONCE_WINDOW_S = 301.0


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    """Yield an embedded store."""
    s = Store.connect(None, prefix="t")
    yield s
    await s.close()


def requests(world: World, method: str, route: str) -> int:
    """Count the requests the fake answered on one route."""
    return int(world.fake.requests.count(method, route))


def subject(number: int, opened: datetime | None = None) -> Subject:
    """Return PR `number` of o/r, opened at `opened`."""
    url = f"https://github.com/o/r/pull/{number}"
    return Subject(
        repo="o/r", number=number, title="T", url=url, author=User(login="a"), created_at=opened
    )


def threads_on(world: World, store: Store, adapter: DiscordRestAdapter, forum: bool) -> Threads:
    """Return the thread service routing o/r to the text channel (or the forum)."""
    channel = world.forum if forum else world.text
    settings = load_settings({"DISCORD_CHANNEL_ID": str(channel.id)})
    return Threads(Deps.build(settings, store, adapter))


# -- messages -------------------------------------------------------------------------------------


async def test_a_first_try_posts_without_looking(
    world: World, adapter: DiscordRestAdapter, store: Store
) -> None:
    thread = await adapter.create_thread(world.text.id, "#1", 1440)
    await post_once(adapter, Attempts(store), thread.id, OutMessage("hi"), "n1", None)
    assert requests(world, "GET", MESSAGES) == 0
    assert len(world.fake.messages_in(thread.id)) == 1


@pytest.mark.parametrize("drop", [False, True])
async def test_a_retry_adopts_the_post_whose_answer_was_lost(
    world: World, adapter: DiscordRestAdapter, store: Store, drop: bool
) -> None:
    thread = await adapter.create_thread(world.text.id, "#2", 1440)
    attempts = Attempts(store)
    before = await post_once(adapter, attempts, thread.id, OutMessage("before"), "n0", None)
    world.fake.faults.lose_next("POST", MESSAGES, drop=drop)
    with pytest.raises(RetriableError):
        await post_once(adapter, attempts, thread.id, OutMessage("hello"), "n1", before)
    world.fake.advance(PAST_THE_NONCE_WINDOW_S)
    again = await post_once(adapter, attempts, thread.id, OutMessage("hello"), "n1", before)
    assert [m.content for m in world.fake.messages_in(thread.id)] == ["before", "hello"]
    assert again == world.fake.messages_in(thread.id)[-1].id
    assert requests(world, "POST", MESSAGES) == 2  # the retry only looked


async def test_a_retry_posts_when_the_lost_write_never_happened(
    world: World, adapter: DiscordRestAdapter, store: Store
) -> None:
    thread = await adapter.create_thread(world.text.id, "#3", 1440)
    world.fake.faults.fail_next("POST", MESSAGES, 503)  # refused before writing
    with pytest.raises(RetriableError):
        await post_once(adapter, Attempts(store), thread.id, OutMessage("hello"), "n1", None)
    world.fake.advance(PAST_THE_NONCE_WINDOW_S)
    await post_once(adapter, Attempts(store), thread.id, OutMessage("hello"), "n1", None)
    assert [m.content for m in world.fake.messages_in(thread.id)] == ["hello"]
    assert requests(world, "GET", MESSAGES) == 1


async def test_the_same_words_posted_before_are_not_taken_for_this_post(
    world: World, adapter: DiscordRestAdapter, store: Store
) -> None:
    thread = await adapter.create_thread(world.text.id, "#4", 1440)
    same = OutMessage("📝 **a** marked this pull request as a draft")
    earlier = await post_once(adapter, Attempts(store), thread.id, same, "n0", None)
    world.fake.faults.fail_next("POST", MESSAGES, 503)
    with pytest.raises(RetriableError):
        await post_once(adapter, Attempts(store), thread.id, same, "n1", earlier)
    await post_once(adapter, Attempts(store), thread.id, same, "n1", earlier)
    assert len(world.fake.messages_in(thread.id)) == 2


@pytest.mark.parametrize("refusal", ["too long", "rate limited"])
async def test_a_write_never_carried_out_gives_the_claim_back(
    world: World, adapter: DiscordRestAdapter, store: Store, refusal: str
) -> None:
    thread = await adapter.create_thread(world.text.id, "#5", 1440)
    failing = OutMessage("x" * 2001 if refusal == "too long" else "x")
    error: type[Exception] = DiscordApiError if refusal == "too long" else RetryAfterError
    if refusal == "rate limited":
        world.fake.faults.fail_next("POST", MESSAGES, 429, retry_after_s=120)
    with pytest.raises(error):
        await post_once(adapter, Attempts(store), thread.id, failing, "n1", None)
    await post_once(adapter, Attempts(store), thread.id, OutMessage("x"), "n1", None)
    assert requests(world, "GET", MESSAGES) == 0  # the next try knew it was the first
    assert len(world.fake.messages_in(thread.id)) == 1


# -- threads --------------------------------------------------------------------------------------


async def test_a_pr_newer_than_the_store_costs_no_search(
    world: World, adapter: DiscordRestAdapter, store: Store
) -> None:
    threads = threads_on(world, store, adapter, forum=False)
    since = await threads.records.holds_every_mapping_since()
    now = datetime.now(UTC).timestamp()
    assert now + CLOCK_MARGIN_S - 5 < since <= now + CLOCK_MARGIN_S  # a new store: from now on
    await adapter.channel(world.text.id)  # channel kinds are read once, at start
    before = world.fake.requests.count()
    assert await threads.ensure(subject(1, datetime.fromtimestamp(since + 1, UTC)), True, "i1")
    assert world.fake.requests.count() - before == 2  # the thread and its intro
    # A PR older than that may have a thread the store no longer knows: search first.
    before = world.fake.requests.count()
    assert await threads.ensure(subject(2, datetime(2024, 5, 1, tzinfo=UTC)), True, "i2")
    assert world.fake.requests.count() - before == 4  # active and archived threads, then both


async def test_a_wiped_store_searches_again(
    world: World, adapter: DiscordRestAdapter, store: Store
) -> None:
    records = ThreadStore(store)
    await records.hold_every_mapping_since(0.0)
    opened = datetime(2024, 5, 1, tzinfo=UTC)
    assert not await records.may_have_lost("o/r#1", opened)
    await store.data.forget("meta", "mappings")  # what a wipe does, with everything else
    assert await records.may_have_lost("o/r#1", opened)
    assert await records.may_have_lost("o/r#1", None)  # no date known: always search


@pytest.mark.parametrize("forum", [False, True])
async def test_a_thread_created_behind_a_lost_answer_is_adopted(
    world: World, adapter: DiscordRestAdapter, store: Store, forum: bool
) -> None:
    threads = threads_on(world, store, adapter, forum)
    await threads.records.hold_every_mapping_since(0.0)
    pr = subject(3, datetime(2024, 5, 1, tzinfo=UTC))
    world.fake.faults.lose_next("POST", THREADS, drop=True)
    with pytest.raises(RetriableError):
        await threads.ensure(pr, True, "i3")
    assert await threads.records.pending("o/r#3")
    world.fake.advance(PAST_THE_NONCE_WINDOW_S)
    ensured = await threads.ensure(pr, True, "i3")
    channel = world.forum if forum else world.text
    (only,) = world.fake.threads_in(channel.id)
    assert ensured == {"thread_id": only.id, "created": False}
    assert len(world.fake.messages_in(only.id)) == 1  # the intro, once
    assert not await threads.records.pending("o/r#3")


async def test_an_intro_behind_a_lost_answer_is_adopted(
    world: World, adapter: DiscordRestAdapter, store: Store
) -> None:
    threads = threads_on(world, store, adapter, forum=False)
    pr = subject(4, datetime(2024, 5, 1, tzinfo=UTC))
    world.fake.faults.lose_next("POST", MESSAGES)
    with pytest.raises(RetriableError):
        await threads.ensure(pr, True, "i4")
    world.fake.advance(PAST_THE_NONCE_WINDOW_S)
    assert await threads.ensure(pr, True, "i4")
    (only,) = world.fake.threads_in(world.text.id)
    (intro,) = world.fake.messages_in(only.id)
    record = await threads.records.get("o/r#4")
    assert record is not None and record.intro and record.last_message == intro.id


# -- edits ----------------------------------------------------------------------------------------


async def test_a_lost_archive_is_checked_not_repeated(
    world: World, adapter: DiscordRestAdapter, store: Store
) -> None:
    threads = threads_on(world, store, adapter, forum=False)
    pr = subject(5)
    assert await threads.ensure(pr, True, "i5")
    world.fake.faults.lose_next("PATCH", CHANNEL)
    with pytest.raises(RetriableError):
        await threads.set_state(pr, "merged", None, True, "status5")
    world.fake.advance(PAST_THE_NONCE_WINDOW_S)
    assert not await threads.set_state(pr, "merged", None, True, "status5")  # already done
    (thread,) = world.fake.threads_in(world.text.id)
    assert thread.archived
    assert world.fake.requests.statuses("PATCH", CHANNEL) == [502]  # nothing unarchived it
    record = await threads.records.get("o/r#5")
    assert record is not None and record.archived


async def test_a_lost_rename_is_checked_not_repeated(
    world: World, adapter: DiscordRestAdapter, store: Store
) -> None:
    threads = threads_on(world, store, adapter, forum=False)
    assert await threads.ensure(subject(6), True, "i6")
    await threads.want_title("o/r#6", "New")
    world.fake.faults.lose_next("PATCH", CHANNEL, drop=True)
    with pytest.raises(RetriableError):
        await threads.apply_title("o/r", 6, "rename6")
    assert await threads.apply_title("o/r", 6, "rename6") == "unchanged"
    (thread,) = world.fake.threads_in(world.text.id)
    assert thread.name == "#6 New" and len(thread.renames) == 1
    assert world.fake.requests.statuses("PATCH", CHANNEL) == [0]


async def test_a_first_try_edits_from_the_mapping_without_reading(
    world: World, adapter: DiscordRestAdapter, store: Store
) -> None:
    threads = threads_on(world, store, adapter, forum=True)
    pr = subject(7)
    assert await threads.ensure(pr, True, "i7")
    before = world.fake.requests.count()
    assert await threads.set_state(pr, "draft", None, None, "status7")
    assert world.fake.requests.count() - before == 1  # the PATCH of the tags alone


async def test_a_refused_creation_leaves_nothing_to_search_for(
    world: World, adapter: DiscordRestAdapter, store: Store
) -> None:
    threads = threads_on(world, store, adapter, forum=False)
    world.fake.faults.fail_next("POST", THREADS, 403)
    with pytest.raises(DiscordApiError):
        await threads.ensure(subject(8), True, "i8")
    assert not await threads.records.pending("o/r#8")
