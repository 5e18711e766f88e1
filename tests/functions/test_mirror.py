"""Thread replies → PR comments, end to end: gateway inbox, runtime on Redis, fake GitHub."""

from __future__ import annotations

from bot.prs.deps import Deps
from bot.prs.mirror import ZWSP, marker
from bot.prs.mirroring import KIND, remember_review_message
from bot.runtime import Worker
from bot.settings import load_settings
from functions import build_functions
from functions.mirror import FUNCTION_ID
from tests.functions.mirror_world import HUBOT, MirrorWorld, mirror_world

__all__ = ["mirror_world"]

ISSUE_COMMENTS = "/repos/acme/widgets/issues/1/comments"


async def test_one_comment_per_message_even_when_the_gateway_sends_it_twice(
    mirror_world: MirrorWorld,
) -> None:
    w = mirror_world
    message = await w.write(w.message("Ship it"))
    await w.write(message)  # redelivered after a resume
    await w.settle()
    (comment,) = w.comments()
    url = f"https://discord.com/channels/800000000000000001/900000000000000001/{message.id}"
    assert (
        comment.body == f"**Alice** wrote [on Discord]({url}):\n\nShip it\n\n{marker(message.id)}"
    )
    assert comment.user.login == "octocat"  # the token's user
    record = await w.store.data.get(KIND, str(message.id))
    assert record["id"] == str(comment.id) and record["kind"] == "issue"


async def test_a_lost_answer_is_retried_without_a_second_comment(mirror_world: MirrorWorld) -> None:
    w = mirror_world
    w.door.fake.faults.fail_next("POST", ISSUE_COMMENTS, "lost")  # done, then answered 502
    first = await w.write(w.message("one"))
    await w.settle()
    w.door.fake.faults.fail_next("POST", ISSUE_COMMENTS, "drop")  # done, then no answer
    second = await w.write(w.message("two"))
    await w.settle()
    bodies = [c.body for c in w.comments()]
    assert len(bodies) == 2
    assert marker(first.id) in bodies[0] and marker(second.id) in bodies[1]
    for message, comment in zip((first, second), w.comments(), strict=True):
        assert await w.store.data.field(KIND, str(message.id), "id") == str(comment.id)


async def test_a_run_resumed_after_its_worker_died_finds_the_comment(
    mirror_world: MirrorWorld,
) -> None:
    w = mirror_world
    message = w.message("posted, then the worker was killed")
    # What a worker killed between GitHub's answer and the record leaves: the claim, and the
    # comment on GitHub with its marker.
    await w.store.data.lock(f"{KIND}:{message.id}", "dead-worker", 60_000)
    await w.store.data.update(KIND, str(message.id), {"claimed": "1"})
    made = await w.github.create_comment(w.door.repo, 1, f"earlier\n\n{marker(message.id)}")
    await w.write(message)
    await w.settle()
    assert [c.id for c in w.comments()] == [made.id]
    assert await w.store.data.field(KIND, str(message.id), "id") == str(made.id)


async def test_edits_and_deletes_follow_the_message(mirror_world: MirrorWorld) -> None:
    w = mirror_world
    message = await w.write(w.message("first words"))
    await w.settle()
    await w.edit(message, "second thoughts")
    await w.settle()
    (comment,) = w.comments()
    assert "second thoughts" in comment.body and "first words" not in comment.body
    assert comment.body.endswith(marker(message.id))
    await w.delete(message)
    await w.settle()
    assert w.comments() == []
    await w.edit(message, "an edit arriving after the delete")
    await w.settle()
    assert w.comments() == []


async def test_bots_webhooks_and_system_messages_are_not_mirrored(
    mirror_world: MirrorWorld,
) -> None:
    w = mirror_world
    await w.write(w.message("a bot", author_bot=True))
    await w.write(w.message("a webhook", webhook_id=42))
    await w.write(w.message("joined the thread", system=True))
    await w.write(w.message("prbot itself", author_id=700000000000000001))
    await w.write(w.message("a human"))
    await w.settle()
    assert [c.body.split("\n\n")[1] for c in w.comments()] == ["a human"]


async def test_mentions_of_linked_members_become_logins_others_ping_nobody(
    mirror_world: MirrorWorld,
) -> None:
    w = mirror_world
    text = f"<@{HUBOT}> and <@123> please, cc @everyone @acme/core"
    await w.write(w.message(text, mention_ids=(HUBOT, 123)))
    await w.settle()
    (comment,) = w.comments()
    assert f"@hubot and @{ZWSP}discord-user please, cc @{ZWSP}everyone @{ZWSP}acme/core" in (
        comment.body
    )


async def test_a_long_message_is_capped_at_65536_characters(mirror_world: MirrorWorld) -> None:
    w = mirror_world
    message = await w.write(w.message("z" * 70_000, attachment_urls=("https://cdn.x/a.png",)))
    await w.settle()
    (comment,) = w.comments()
    assert len(comment.body) == 65_536 and comment.body.endswith(marker(message.id))
    assert "📎 [a.png](https://cdn.x/a.png)" in comment.body


async def test_a_reply_to_a_forwarded_review_comment_goes_into_its_thread(
    mirror_world: MirrorWorld,
) -> None:
    w = mirror_world
    review = w.door.fake.add_review_comment(w.door.world.pr, "alice", "nit: spacing")
    forwarded = 4242  # the Discord message prbot posted for that review comment
    await remember_review_message(w.store, forwarded, review.id)
    message = await w.write(w.message("fixed, thanks", reference_id=forwarded))
    await w.edit(message, "fixed in 1a2b3c, thanks")
    await w.settle()
    replies = [
        c for c in w.door.fake.state.review_comments.values() if c.in_reply_to_id == review.id
    ]
    assert len(replies) == 1 and "fixed in 1a2b3c" in replies[0].body
    assert w.comments() == []  # not in the conversation
    await w.delete(message)
    await w.settle()
    assert [c.id for c in w.door.fake.state.review_comments.values()] == [review.id]


async def test_a_flood_is_throttled_per_thread_and_nothing_is_dropped(
    mirror_world: MirrorWorld,
) -> None:
    w = mirror_world
    flood = [await w.write(w.message(f"message {i}")) for i in range(30)]
    worker_counts = []
    for _ in range(3):
        await Worker(w.runtime, concurrency=4).run_until_idle()
        worker_counts.append(len(w.comments()))
        w.clock.advance(60.001)
    await w.settle()
    assert worker_counts == [10, 20, 30]  # at most 10 starts a minute per thread
    assert [c.body.split("\n\n")[1] for c in w.comments()] == [f"message {i}" for i in range(30)]
    assert all(marker(m.id) in c.body for m, c in zip(flood, w.comments(), strict=True))


def test_sync_is_on_with_api_access_unless_turned_off(mirror_world: MirrorWorld) -> None:
    w = mirror_world
    env = w.door.token_env()

    def ids(**extra: str) -> list[str]:
        deps = Deps.build(load_settings(env | extra), w.store, w.runtime_discord(), w.github)
        return [f.id for f in build_functions(deps)]

    assert FUNCTION_ID in ids()
    assert FUNCTION_ID in ids(SYNC_DISCORD_REPLIES="true")
    assert FUNCTION_ID not in ids(SYNC_DISCORD_REPLIES="false")
    assert not load_settings({"SYNC_DISCORD_REPLIES": "true"}).sync_replies  # no API access
