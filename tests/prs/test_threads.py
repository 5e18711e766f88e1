"""Routing, filters, user mapping and find-or-create (dry-run adapter, embedded store)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.discord import OutMessage
from bot.discord.dryrun import DryRunAdapter
from bot.github.payloads import Subject, User
from bot.prs import render
from bot.prs.deps import Deps
from bot.prs.mapping import LOCK_TTL_MS
from bot.prs.routing import DEFAULT_TAG_NAMES, name_template, route, shared_channel, skip_reason
from bot.prs.threads import Threads
from bot.prs.users import UserMapError, load_users, parse_user_file
from bot.runtime import RetriableError, Store
from bot.settings import Settings, load_settings

CHANNEL = 111
FORUM = 222


def settings(**env: str) -> Settings:
    """Return settings from environment-style names."""
    return load_settings({"DISCORD_CHANNEL_ID": str(CHANNEL), **env})


def subject(number: int = 80, title: str = "Fix it", **kw: object) -> Subject:
    """Return a PR subject in o/r."""
    data: dict[str, object] = {
        "repo": "o/r",
        "number": number,
        "title": title,
        "url": f"https://github.com/o/r/pull/{number}",
        "author": User(login="octocat"),
    }
    data.update(kw)
    return Subject.model_validate(data)


def test_routing_exact_then_owner_wildcard_then_default() -> None:
    s = settings(REPO_CHANNELS="o/r=5,o/*=6,Other/Thing=7")
    assert route(s, "o/r") == 5
    assert route(s, "o/elsewhere") == 6
    assert route(s, "other/thing") == 7  # GitHub names are case-insensitive
    assert route(s, "x/y") == CHANNEL
    assert route(load_settings({}), "x/y") is None


def test_shared_channels_put_the_repo_in_the_name() -> None:
    assert not shared_channel(settings(), CHANNEL)
    assert shared_channel(settings(REPO_CHANNELS="o/*=5"), 5)
    assert shared_channel(settings(REPO_CHANNELS=f"o/r={CHANNEL}"), CHANNEL)
    assert not shared_channel(settings(REPO_CHANNELS="o/r=5"), 5)
    assert shared_channel(settings(REPO_CHANNELS="o/r=5,o/s=5"), 5)
    assert name_template(settings(REPO_CHANNELS="o/*=5"), 5) == "{repo}#{number} {title}"


def test_filters() -> None:
    s = settings(EXCLUDED_AUTHORS="Renovate", EXCLUDED_LABELS="wip,no-discord")
    assert skip_reason(s, subject()) is None
    assert skip_reason(s, subject(author=User(login="dependabot[bot]"))) == "authored by a bot"
    assert (
        skip_reason(settings(INCLUDE_BOT_PRS="true"), subject(author=User(login="a[bot]"))) is None
    )
    assert skip_reason(s, subject(author=User(login="renovate"))) == "excluded author"
    assert skip_reason(s, subject(labels=("WIP",))) == "excluded label"
    assert skip_reason(s, subject(draft=True)) is None
    assert skip_reason(settings(DRAFT_QUIET="1"), subject(draft=True)) is not None


def test_user_mapping_from_setting_and_file(tmp_path: Path) -> None:
    lines = tmp_path / "users.txt"
    lines.write_text("# team\nOctocat=1234\nhubot: 99\n")
    s = settings(GITHUB_DISCORD_USERS="monalisa:7,hubot=100", GITHUB_DISCORD_USERS_FILE=str(lines))
    assert load_users(s) == {"octocat": 1234, "hubot": 100, "monalisa": 7}
    assert parse_user_file('{"a": "1", "B": 2}') == {"a": 1, "B": 2}
    with pytest.raises(UserMapError):
        parse_user_file("a=notanumber")
    with pytest.raises(UserMapError):
        load_users(settings(GITHUB_DISCORD_USERS_FILE=str(tmp_path / "missing")))


@pytest.fixture
async def store() -> AsyncIterator[Store]:
    """Yield an embedded store."""
    s = Store.connect(None, prefix="t")
    yield s
    await s.close()


def make(store: Store, adapter: DryRunAdapter, **env: str) -> Threads:
    """Return the thread service on the dry-run adapter."""
    return Threads(Deps.build(settings(**env), store, adapter))


async def test_creates_once_then_uses_the_mapping(store: Store) -> None:
    adapter = DryRunAdapter(echo=False)
    threads = make(store, adapter)
    first = await threads.ensure(subject(), True, "n1")
    again = await threads.ensure(subject(), True, "n2")
    assert first == {"thread_id": 10001, "created": True}
    assert again == {"thread_id": 10001, "created": False}
    assert adapter.lines[0] == 'thread 10001 created in channel 111: "#80 Fix it"'
    assert adapter.lines[1].startswith('thread 10001 message: [embed "#80 Fix it"')
    assert len(adapter.lines) == 2


async def test_no_create_means_no_thread(store: Store) -> None:
    adapter = DryRunAdapter(echo=False)
    assert await make(store, adapter).ensure(subject(), False, "n") is None
    assert adapter.lines == []


async def test_a_resumed_run_reenters_the_lock_its_dead_attempt_left(store: Store) -> None:
    # Soak finding: a worker SIGKILLed inside find-or-create left the lock for its 60 s TTL, so
    # the resumed run (and every later run of the PR) exhausted its retries and failed.
    adapter = DryRunAdapter(echo=False)
    threads = make(store, adapter)
    assert await threads.records.lock("o/r#80", "run-a-intro", LOCK_TTL_MS)  # then it died
    with pytest.raises(RetriableError):
        await threads.ensure(subject(), True, "run-b-intro")  # another run still waits
    ensured = await threads.ensure(subject(), True, "run-a-intro")  # the same run resumes
    assert ensured == {"thread_id": 10001, "created": True}
    assert not await store.redis.exists(store.keys.data("lock", "o/r#80"))  # released


async def test_lost_mapping_readopts_by_exact_prefix(store: Store) -> None:
    adapter = DryRunAdapter(echo=False)
    threads = make(store, adapter)
    await threads.ensure(subject(805, "Other"), True, "a")
    await threads.ensure(subject(80, "Mine"), True, "b")
    await threads.set_state(subject(80), "closed", None, True)  # archived: found in the archive
    await store.redis.flushall()
    adopted = await threads.find("o/r", 80)
    assert adopted is not None and adopted.thread_id == 10002 and adopted.archived
    assert (await threads.find("o/r", 805)) is not None
    assert (await threads.find("o/r", 8)) is None
    assert sum("created" in line for line in adapter.lines) == 2


async def test_post_unarchives_in_the_record(store: Store) -> None:
    adapter = DryRunAdapter(echo=False)
    threads = make(store, adapter)
    await threads.ensure(subject(), True, "i")
    await threads.set_state(subject(), "closed", None, True)
    await threads.post(subject(), OutMessage("hi"), "m1")
    await threads.post(subject(), OutMessage("hi"), "m1")  # same nonce: one message
    record = await threads.records.get("o/r#80")
    assert record is not None and not record.archived
    assert adapter.lines[-2:] == ["thread 10001 archived", "thread 10001 message: hi"]


async def test_forum_post_with_status_tags(store: Store) -> None:
    without_closed = [n for n in DEFAULT_TAG_NAMES.values() if n != "closed"]
    adapter = DryRunAdapter(echo=False, forums={FORUM: without_closed})
    threads = make(store, adapter, REPO_CHANNELS=f"o/r={FORUM}")
    await threads.ensure(subject(draft=True), True, "i")
    assert adapter.lines[0].endswith('"#80 Fix it" tags [draft]')
    await threads.set_state(subject(), "open", "approved")
    await threads.set_state(subject(), "closed", "", True)  # no "closed" tag in this forum
    assert adapter.lines[-2:] == [
        "thread 10001 tagged [open, approved]",
        "thread 10001 archived, tagged []",
    ]


async def test_rename_applies_only_the_latest_title(store: Store) -> None:
    adapter = DryRunAdapter(echo=False)
    threads = make(store, adapter)
    await threads.ensure(subject(), True, "i")
    await threads.want_title("o/r#80", "Second")
    await threads.want_title("o/r#80", "Third")
    assert await threads.apply_title("o/r", 80) == "renamed"
    assert await threads.apply_title("o/r", 80) == "unchanged"
    assert adapter.lines[-1] == 'thread 10001 renamed "#80 Fix it" -> "#80 Third"'


async def test_rename_of_an_archived_thread_archives_it_again(store: Store) -> None:
    adapter = DryRunAdapter(echo=False)
    threads = make(store, adapter)
    await threads.ensure(subject(), True, "i")
    await threads.set_state(subject(), "closed", None, True)
    await threads.want_title("o/r#80", "New")
    assert await threads.apply_title("o/r", 80) == "renamed"
    assert adapter.lines[-2:] == [
        'thread 10001 renamed "#80 Fix it" -> "#80 New", unarchived',
        "thread 10001 archived",
    ]
    record = await threads.records.get("o/r#80")
    assert record is not None and record.archived and record.name == "#80 New"


async def test_commit_counts(store: Store) -> None:
    threads = make(store, DryRunAdapter(echo=False))
    assert await threads.count_commits("o/r#80", 2) is None
    assert await threads.count_commits("o/r#80", 5) == 3
    assert await threads.count_commits("o/r#80", None) is None


def test_prefix_matches_the_created_name() -> None:
    name = render.thread_name("#{number} {title}", "o/r", 80, "x")
    assert render.has_prefix(name, render.thread_prefix("#{number} {title}", "o/r", 80))


async def test_review_tag_follows_every_reviewer(store: Store) -> None:
    adapter = DryRunAdapter(echo=False, forums={FORUM: ["open", "approved", "changes requested"]})
    threads = make(store, adapter, REPO_CHANNELS=f"o/r={FORUM}")
    await threads.ensure(subject(), True, "i")
    await threads.set_review(subject(), "hubot", "changes_requested")
    await threads.set_review(subject(), "monalisa", "approved")
    await threads.set_review(subject(), "hubot", None)  # hubot's review dismissed
    assert adapter.lines[-2:] == [
        "thread 10001 tagged [open, changes requested]",
        "thread 10001 tagged [open, approved]",
    ]


async def test_missing_forum_tags_warn_once_at_start(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    from functions import startup_checks

    forum = 333  # warnings are once per process: a forum no other test uses
    adapter = DryRunAdapter(echo=False, forums={forum: ["open", "merged"]})
    deps = Deps.build(settings(REPO_CHANNELS=f"o/r={forum}"), store, adapter)
    await startup_checks(deps)
    await startup_checks(deps)
    missing = [r.getMessage() for r in caplog.records if "has no tag named" in r.getMessage()]
    assert len(missing) == 5  # draft, approved, changes requested, closed, checks failing: once
    await Threads(deps).ensure(subject(draft=True), True, "i")  # works without the tag
    assert adapter.lines[0].endswith("tags []")
