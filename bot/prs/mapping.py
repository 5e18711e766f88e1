"""The PR → thread mapping kept in the store, and the per-PR lock around find-or-create.

Each thread also points back at its PR (`data:thread-pr:<thread id>`), written with the
mapping: the gateway records only messages in PR threads, and says which PR.

The store also says since when it holds every mapping it made (`data:meta:mappings`, field
`since`, epoch seconds). Set the first time it is asked for, on an empty store, and gone with
everything else when Redis is wiped: a PR opened after that instant without a mapping (and
without a creation cut short, the `creating` field) has no thread, so finding its thread costs
no search of the channel.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.runtime import Store

LOCK_TTL_MS = 60_000
# Set later than now by this much: GitHub's clock and ours may disagree a little.
CLOCK_MARGIN_S = 600.0


class ThreadRecord(BaseModel):
    """What the store keeps about a PR's thread (a Redis hash under `data:thread:<pr key>`)."""

    model_config = ConfigDict(frozen=True)

    thread_id: int
    channel_id: int
    forum: bool = False
    name: str = ""
    archived: bool = False
    locked: bool = False
    intro: bool = True
    state: str = "open"
    review: str | None = None
    tags: tuple[int, ...] = ()
    title: str | None = None  # the latest title seen: what the rename function applies
    last_message: int | None = None  # the newest message prbot knows it posted in the thread


def _encode(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


class ThreadStore:
    """The PR key -> thread mapping; field-wise writes so concurrent functions never clobber."""

    def __init__(self, store: Store, now_s: Callable[[], float] = time.time) -> None:
        self.data = store.data
        self._now_s = now_s

    async def get(self, pr: str) -> ThreadRecord | None:
        """Return the record, or None when missing or partial."""
        raw = await self.data.get("thread", pr)
        if "thread_id" not in raw:
            return None
        data: dict[str, object] = {k: v for k, v in raw.items() if v != ""}
        data["tags"] = [int(t) for t in raw.get("tags", "").split(",") if t]
        try:
            return ThreadRecord.model_validate(data)
        except ValidationError:
            return None

    async def put(self, pr: str, record: ThreadRecord) -> None:
        """Write a whole record (keeping a wanted title already stored); no creation pending."""
        fields = record.model_dump(exclude={"title"} if record.title is None else set())
        await self.update(pr, **fields, creating="")

    async def creating(self, pr: str) -> None:
        """Say a thread is about to be created for the PR (cleared by `put`)."""
        await self.update(pr, creating=str(self._now_s()))

    async def pending(self, pr: str) -> bool:
        """Tell whether a creation started and was never recorded: the thread may exist."""
        return await self.field(pr, "creating") is not None

    async def holds_every_mapping_since(self) -> float:
        """Return since when (epoch s) the store holds every mapping made; mark it if unset."""
        since = await self.data.field("meta", "mappings", "since")
        if since is not None:
            return float(since)
        # Nothing says since when: the store is new or was wiped. From now on it holds all.
        return await self.hold_every_mapping_since(self._now_s() + CLOCK_MARGIN_S)

    async def hold_every_mapping_since(self, since_s: float) -> float:
        """Say the store holds every mapping made since `since_s` (first start, benchmarks)."""
        await self.data.update("meta", "mappings", {"since": repr(since_s)})
        return since_s

    async def may_have_lost(self, pr: str, opened: datetime | None) -> bool:
        """Tell whether the PR may have a thread the mapping lost (then search the channel)."""
        if opened is None or await self.pending(pr):
            return True
        return opened.timestamp() < await self.holds_every_mapping_since()

    async def update(self, pr: str, **fields: object) -> None:
        """Write some fields of the record (and, with `thread_id`, the thread's way back)."""
        await self.data.update("thread", pr, {k: _encode(v) for k, v in fields.items()})
        if "thread_id" in fields:
            await self.data.update("thread-pr", _encode(fields["thread_id"]), {"pr": pr})

    async def pr_of_thread(self, thread_id: int) -> str | None:
        """Return the key of the PR whose thread this is, if the mapping still says so."""
        pr = await self.data.field("thread-pr", str(thread_id), "pr")
        if not pr or await self.data.field("thread", pr, "thread_id") != str(thread_id):
            return None  # not a PR thread, or the PR has another thread now
        return pr

    async def forget(self, pr: str) -> None:
        """Drop the mapping (the thread is gone)."""
        await self.data.forget("thread", pr)

    async def swap(self, pr: str, field: str, value: str) -> str | None:
        """Set one field, returning its previous value."""
        return await self.data.swap("thread", pr, field, value)

    async def lock(self, pr: str, token: str, ttl_ms: int) -> bool:
        """Take (or re-enter) the PR's find-or-create lock; False if another token holds it."""
        return await self.data.lock(pr, token, ttl_ms)

    async def unlock(self, pr: str, token: str) -> None:
        """Release the lock if it is still ours."""
        await self.data.unlock(pr, token)

    async def field(self, pr: str, name: str) -> str | None:
        """Return one field of the PR's hash (such as the latest `title` seen), if set."""
        return await self.data.field("thread", pr, name) or None
