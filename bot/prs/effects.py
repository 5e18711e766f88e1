"""Side effects that find themselves: a retried step first looks for what it may have done.

Discord drops a repeated message nonce only "within the past few minutes", and a thread or an
edit has no nonce at all. So before a step writes to Discord it claims its nonce in the store
(one `SET NX`); when the claim is already there, an earlier attempt of the same step started
the write and saved no result — its answer was lost, its worker died, or the store went away —
and the step looks on Discord for its own effect before doing anything again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.discord import DiscordAdapter, DiscordApiError, OutMessage, is_posting_of
from bot.runtime import RetryAfterError, Store, current_run_id

log = logging.getLogger(__name__)

# A claim lives in the run that takes it and goes when that run ends: exactly as long as the
# step may be retried. Outside any run (a one-off call) it is kept this long.
CLAIM_TTL_MS = 7 * 24 * 3600 * 1000


class Attempts:
    """Tell a step's first try at a write from a retry that may follow a write already done."""

    def __init__(self, store: Store) -> None:
        self.data = store.data

    @asynccontextmanager
    async def first(self, nonce: str | None) -> AsyncIterator[bool]:
        """Claim the write of step `nonce`; yield True when no earlier attempt started it.

        A write Discord refused (4xx) or never carried out (429) gives the claim back, so
        the next attempt needs no search; a lost answer (5xx, dropped connection) keeps it.
        No nonce: a one-off call outside any step, which nothing retries as such.
        """
        if nonce is None:
            yield True
            return
        token = uuid.uuid4().hex
        run_id = current_run_id()
        # The lock script takes the key only when free: a different token each call means
        # every call after the first one finds it held.
        first = await self.data.lock(f"effect:{nonce}", token, CLAIM_TTL_MS, run_id)
        try:
            yield first
        except (DiscordApiError, RetryAfterError):
            if first:
                await self.data.unlock(f"effect:{nonce}", token, run_id)
            raise


async def post_once(
    discord: DiscordAdapter,
    attempts: Attempts,
    channel_id: int,
    message: OutMessage,
    nonce: str,
    after: int | None,
) -> int:
    """Post `message` as the step `nonce`, or return the id of the posting an earlier try made.

    `after` is the last message of the channel the store knows of: a retry looks among the
    bot's messages after it (None: among the newest) for this very message.
    """
    async with attempts.first(nonce) as first:
        if not first:
            for posted in await discord.own_messages(channel_id, after):
                if is_posting_of(posted, message):
                    log.info("message %s in %s was posted by an earlier try", posted.id, channel_id)
                    return posted.id
            log.info("an earlier try posted nothing in %s; posting", channel_id)
        return await discord.send(channel_id, message, nonce)
