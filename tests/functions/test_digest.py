"""The review digest through the real route, runtime and fake Discord: one message per tick."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.runtime import Runtime, Worker, run_id_for
from functions import build_functions
from functions.digest import FUNCTION_ID
from tests.discord.world import World
from tests.fakes.discord_models import Message
from tests.functions.harness import Harness, HarnessFactory

MAY_10_0830 = int(datetime(2024, 5, 10, 8, 30, tzinfo=UTC).timestamp() * 1000)
MAY_10_0900 = int(datetime(2024, 5, 10, 9, 0, tzinfo=UTC).timestamp() * 1000)
DAY_S = 86_400
ASKED_42 = ("01-opened", "02-comment", "03-converted-to-draft", "04-ready-for-review",
            "05-review-requested")  # fmt: skip


async def digested(make_harness: HarnessFactory, world: World) -> tuple[Harness, int]:
    """Return a harness whose digest posts at 09:00 UTC in its own channel, and that channel."""
    channel = world.fake.add_text_channel(world.guild.id, "digest").id
    h: Harness = await make_harness(DIGEST_CRON="0 9 * * *", DIGEST_CHANNEL_ID=str(channel))
    h.clock.set(MAY_10_0830)
    return h, channel


def digests(h: Harness, channel: int) -> list[Message]:
    """Return the messages in the digest channel."""
    return h.world.fake.messages_in(channel)


async def at(h: Harness, when_ms: int) -> None:
    """Move both clocks to `when_ms` and run what became due."""
    h.world.fake.advance((when_ms - h.clock.now_ms()) / 1000)
    h.clock.set(when_ms)
    await h.settle()


async def test_one_message_per_tick_per_repository_oldest_first(
    make_harness: HarnessFactory, world: World
) -> None:
    h, channel = await digested(make_harness, world)
    await h.play("pr-lifecycle", *ASKED_42)  # #42 asks hubot on May 6
    await h.play("changes-requested", "01-opened")  # #45 asks hubot on May 9
    await h.play("forum", *ASKED_42)  # forum-demo#7 asks hubot on May 6, after #42
    await h.settle()
    assert digests(h, channel) == []
    # Two workers reach the tick together: the runtime lets one of them run it.
    other = Runtime(h.store, build_functions(h.deps), clock=h.clock)
    h.world.fake.advance((MAY_10_0900 - h.clock.now_ms()) / 1000)
    h.clock.set(MAY_10_0900)
    await asyncio.gather(Worker(h.runtime).run_until_idle(), Worker(other).run_until_idle())
    [digest] = digests(h, channel)
    threads = {t.name.split()[0]: t.id for t in h.threads()}
    guild = h.world.guild.id
    assert digest.content.splitlines() == [
        "📋 **3 pull requests waiting for review**, oldest first",
        "**octo-org/forum-demo**",
        f"• [#7 Add French and German greetings](<https://discord.com/channels/{guild}/"
        f"{threads['#7']}>) · 3d · hubot",
        "**octo-org/hello-world**",
        f"• [#42 Add French and German greetings](<https://discord.com/channels/{guild}/"
        f"{threads['#42']}>) · 3d · hubot",
        f"• [#45 Cache rendered greetings](<https://discord.com/channels/{guild}/"
        f"{threads['#45']}>) · 24h · hubot",
    ]
    assert digest.allowed_mentions == {"parse": []} and not digest.pings.anyone
    assert digest.nonce is not None
    await at(h, MAY_10_0900 + 1000)
    assert len(digests(h, channel)) == 1  # nothing more for the same tick

    # Reviews and a merge: at the next tick nothing waits, and nothing is posted.
    await h.play("pr-lifecycle", "07-review-commented")
    await h.play("changes-requested", "02-review-changes-requested")
    await h.play("forum", "10-merged")
    await at(h, MAY_10_0900 + DAY_S * 1000)
    assert len(digests(h, channel)) == 1
    tick = f"cron-{FUNCTION_ID}-{MAY_10_0900 + DAY_S * 1000}"
    state, _, _ = await h.store.reads.run(run_id_for(tick, FUNCTION_ID))
    assert (state["status"], state["output"]) == ("completed", '"nothing waits for review"')
    assert await h.failed_runs() == []
