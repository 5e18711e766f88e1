"""Group commit: events sent while a store call is in flight share the next one."""

from __future__ import annotations

import asyncio

from bot.runtime.clock import Clock
from bot.runtime.store import Enqueue, Store

# A bound on one Lua call (each item carries a payload of tens of kilobytes): Redis runs a
# script to its end before it serves anyone else.
MAX_BATCH = 32
# Calls in flight at once: while Redis runs one batch the process parses the next.
MAX_INFLIGHT = 2


class EnqueueBatcher:
    """Enqueue concurrent callers' items in as few atomic store calls as the load allows.

    An idle batcher sends an item at once; items that arrive while a call is in flight wait
    for it to end and then go together, in arrival order, in one call of the same Lua script
    (which decides each item on its own). Under load the per-call cost of the Redis client is
    shared; a lone request pays nothing extra.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        max_batch: int = MAX_BATCH,
        max_inflight: int = MAX_INFLIGHT,
    ) -> None:
        self.store = store
        self.clock = clock
        self.max_batch = max_batch
        self.max_inflight = max_inflight
        self._waiting: list[tuple[Enqueue, asyncio.Future[tuple[int, bool]]]] = []
        self._senders: set[asyncio.Task[None]] = set()

    async def enqueue(self, item: Enqueue) -> tuple[int, bool]:
        """Store `item` (atomically, as `Store.enqueue` does); return its code, and whether the
        call cancelled runs (their `prbot/function.cancelled` events are then to be sent)."""
        done: asyncio.Future[tuple[int, bool]] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if len(self._senders) < self.max_inflight:
            sender = asyncio.create_task(self._send_all(), name="enqueue-batches")
            self._senders.add(sender)
            sender.add_done_callback(self._senders.discard)
        return await done

    async def _send_all(self) -> None:
        batch: list[tuple[Enqueue, asyncio.Future[tuple[int, bool]]]] = []
        try:
            while self._waiting:
                batch = self._waiting[: self.max_batch]
                del self._waiting[: self.max_batch]
                await self._send(batch)
        except asyncio.CancelledError:  # the loop is closing: nobody is left to answer
            for _, done in batch + self._waiting:
                done.cancel()
            raise

    async def _send(self, batch: list[tuple[Enqueue, asyncio.Future[tuple[int, bool]]]]) -> None:
        try:
            result = await self.store.enqueue([item for item, _ in batch], self.clock.now_ms())
            answers = list(zip((done for _, done in batch), result.codes, strict=True))
            cancelled = bool(result.cancelled)
        except Exception as exc:  # every waiter learns what became of its item
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            return
        for done, code in answers:
            if not done.done():
                done.set_result((code, cancelled))
