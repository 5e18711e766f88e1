"""The PR → thread mapping kept in the store, and the per-PR lock around find-or-create.

Each thread also points back at its PR (`data:thread-pr:<thread id>`), written with the
mapping: the gateway records only messages in PR threads, and says which PR.

The store also says since when it holds every mapping it made (`data:meta:mappings`, field
`since`, epoch seconds). Set the first time it is asked for, on an empty store, and gone with
everything else when Redis is wiped: a PR opened after that instant without a mapping (and
without a creation cut short, the `creating` field) has no thread, so finding its thread costs
no search of the channel. Mappings of PRs closed long ago expire, and move `since` past their
PR's opening as they do (bot/prs/retention.py).

Every key the product keeps (after `<prefix>:data:`), and what bounds it:

  thread:<pr>          HASH    open or draft PR: kept; closed, merged or no thread: 30 days
                               after its last write (retention.py)
  meta:mappings        HASH    one key, `since`: gone only with a wipe, which is what it tells
  meta:expiring        ZSET    the mappings that expire within 30 days
  archive:<channel>,   HASH,   the archived-thread index of a channel: 30 days after its last
  archived:<channel>   ZSET    use (bot/prs/archive.py)
  lock:<pr>            String  find-or-create lock: 60 s TTL, released at the end of the step
  lock:archive:<ch>    String  one archive scan at a time: 60 s TTL, released after the step
  lock:effect:<nonce>  String  an effect claim outside any run (a one-off call): 7 days;
                               inside a run the claim lives in the run (`run:<id>:claims`)
  discord:pace         String  the shared Discord pace: expires just after its slot
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.prs import retention
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
    guild_id: int | None = None  # the server: links to the thread need it
    opened: float | None = None  # when the PR was opened (epoch s), if known


def _encode(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def _opened(opened: datetime | None) -> dict[str, object]:
    # Every write says when the PR opened, if known: its expiry is noted with it (retention.py).
    return {} if opened is None else {"opened": opened.timestamp()}


class ThreadStore:
    """The PR key -> thread mapping; field-wise writes so concurrent functions never clobber."""

    def __init__(self, store: Store, now_s: Callable[[], float] = time.time) -> None:
        self.data = store.data
        self._now_s = now_s
        self._write = store.data.script(retention.WRITE)
        self._may_have_lost = store.data.script(retention.MAY_HAVE_LOST)

    def _keys(self, pr: str) -> list[tuple[str, ...]]:
        return [("thread", pr), ("meta", "expiring"), ("meta", "mappings")]

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

    async def put(self, pr: str, record: ThreadRecord, adopted: bool = False) -> None:
        """Write a whole record (keeping a wanted title already stored); no creation pending.

        An `adopted` record (found on Discord) leaves out the PR's state, which it does not
        know: it expires like a closed PR's until a lifecycle event says the PR is open.
        """
        leave = {"title"} if record.title is None else set()
        fields = record.model_dump(exclude=leave | ({"state"} if adopted else set()))
        await self.update(pr, **fields, creating="")

    async def creating(self, pr: str, opened: datetime | None = None) -> None:
        """Say a thread is about to be created for the PR (cleared by `put`)."""
        await self.update(pr, creating=str(self._now_s()), **_opened(opened))

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
        now = self._now_s()
        at = "" if opened is None else repr(opened.timestamp())
        args: list[str | int] = [int(now * 1000), int(CLOCK_MARGIN_S * 1000), at]
        args.append(repr(now + CLOCK_MARGIN_S))
        return bool(await self._may_have_lost(self._keys(pr), args))

    async def searched(self, pr: str, opened: datetime | None = None) -> None:
        """Say a complete search of the channel found no thread for the PR (none to re-adopt)."""
        await self.update(pr, searched=str(self._now_s()), **_opened(opened))

    async def update(self, pr: str, **fields: object) -> list[str | None]:
        """Write some fields of the record (and keep it as long as its PR's state says).

        Return the fields' values before the write.
        """
        now_ms = int(self._now_s() * 1000)
        args: list[str | int] = [now_ms, retention.KEEP_MS, int(CLOCK_MARGIN_S * 1000), pr]
        for name, value in fields.items():
            args += [name, _encode(value)]
        before = list(await self._write(self._keys(pr), args))
        if "thread_id" in fields:  # the thread's way back to its PR (the gateway's filter)
            back = {"pr": pr}
            await self.data.update(
                "thread-pr", _encode(fields["thread_id"]), back, retention.KEEP_MS
            )
        return before

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
        (previous,) = await self.update(pr, **{field: value})
        return previous

    async def lock(self, pr: str, token: str, ttl_ms: int) -> bool:
        """Take (or re-enter) the PR's find-or-create lock; False if another token holds it."""
        return await self.data.lock(pr, token, ttl_ms)

    async def unlock(self, pr: str, token: str) -> None:
        """Release the lock if it is still ours."""
        await self.data.unlock(pr, token)

    async def field(self, pr: str, name: str) -> str | None:
        """Return one field of the PR's hash (such as the latest `title` seen), if set."""
        return await self.data.field("thread", pr, name) or None
