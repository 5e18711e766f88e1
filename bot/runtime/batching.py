"""Group commit: events sent while a store call is in flight share the next one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from bot.runtime.clock import Clock
from bot.runtime.store import Accept, Enqueue, Enqueued, Store

Item = TypeVar("Item", Enqueue, Accept)

# A bound on one Lua call (each item carries a payload of tens of kilobytes): Redis runs a
# script to its end before it serves anyone else.
MAX_BATCH = 32
# Calls in flight at once: while Redis runs one batch the process parses the next.
MAX_INFLIGHT = 2


class Batcher(Generic[Item]):
    """Send concurrent callers' items in as few atomic store calls as the load allows.

    An idle batcher sends an item at once; items that arrive while a call is in flight wait
    for it to end and then go together, in arrival order, in one call of the same Lua script
    (which decides each item on its own). Under load the per-call cost of the Redis client is
    shared; a lone request pays nothing extra.
    """

    def __init__(
        self,
        call: Callable[[Sequence[Item], int], Awaitable[Enqueued]],
        clock: Clock,
        max_batch: int = MAX_BATCH,
        max_inflight: int = MAX_INFLIGHT,
    ) -> None:
        self.call: Callable[[Sequence[Item], int], Awaitable[Enqueued]] = call
        self.clock = clock
        self.max_batch = max_batch
        self.max_inflight = max_inflight
        self._waiting: list[tuple[Item, asyncio.Future[tuple[int, bool]]]] = []
        self._senders: set[asyncio.Task[None]] = set()

    async def send(self, item: Item) -> tuple[int, bool]:
        """Store `item` (atomically, as the store call does); return its code, and whether the
        call cancelled runs (their `prbot/function.cancelled` events are then to be sent)."""
        done: asyncio.Future[tuple[int, bool]] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if len(self._senders) < self.max_inflight:
            sender = asyncio.create_task(self._send_all(), name="enqueue-batches")
            self._senders.add(sender)
            sender.add_done_callback(self._senders.discard)
        return await done

    async def _send_all(self) -> None:
        batch: list[tuple[Item, asyncio.Future[tuple[int, bool]]]] = []
        try:
            while self._waiting:
                batch = self._waiting[: self.max_batch]
                del self._waiting[: self.max_batch]
                await self._send(batch)
        except asyncio.CancelledError:  # the loop is closing: nobody is left to answer
            for _, done in batch + self._waiting:
                done.cancel()
            raise

    async def _send(self, batch: list[tuple[Item, asyncio.Future[tuple[int, bool]]]]) -> None:
        try:
            result = await self.call([item for item, _ in batch], self.clock.now_ms())
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


def enqueue_batcher(store: Store, clock: Clock, **limits: int) -> Batcher[Enqueue]:
    """Return a batcher of events with their planned runs (`Store.enqueue`)."""
    return Batcher(store.enqueue, clock, **limits)


def accept_batcher(store: Store, clock: Clock, **limits: int) -> Batcher[Accept]:
    """Return a batcher of accepted deliveries for the inbox (`Store.accept`)."""
    return Batcher(store.accept, clock, **limits)
