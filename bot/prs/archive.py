"""A channel's archived threads, indexed by name in the store: a lost mapping is found however old.

Discord lists archived threads only newest first, 100 a page, paging back by archive time, and
never by name. So the first search after the store lost mappings pages back through the whole
archive once — `SCAN_PAGES` pages a step, resuming from a cursor kept in the store, so a huge
channel takes several short steps rather than one long one — and keeps every name in a sorted
set (`data:archived:<channel>`, searched by prefix). Later searches read only the pages archived
since (`top`, the newest archive time seen) and look the prefix up in Redis. A thread found in
the index is read again before it is adopted: it may have been deleted or renamed since.

Both keys expire `INDEX_TTL_MS` after their last use; the next search that needs them pages
back through the archive again.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from bot.discord import UNKNOWN_CHANNEL, DiscordAdapter, DiscordApiError, ThreadInfo
from bot.prs import render
from bot.runtime import RetryAfterError, Store

log = logging.getLogger(__name__)

SCAN_PAGES = 20  # pages (100 threads each) one step reads before the run continues later
CATCH_UP_PAGES = 10  # newest pages read to cover what was archived since the last search
INDEX_TTL_MS = 30 * 86_400_000
SCAN_LOCK_TTL_MS = 60_000
WAIT_FOR_SCAN_S = 2.0
SEP = "\x1f"  # between a name and its thread id (no thread name holds it)

# KEYS: state, names. The state's fields, or none when the names expired (no index then).
STATE = """
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[1])
  return {}
end
return redis.call('HGETALL', KEYS[1])
"""
# KEYS: state, names. ARGV: ttl, top (epoch s of the newest archive seen, '' none), before (the
# scan's cursor, '' none), done (0|1), names...
# The member '' marks an index that exists but holds no thread yet.
ADD = """
local top = tonumber(redis.call('HGET', KEYS[1], 'top'))
if ARGV[2] ~= '' and (not top or tonumber(ARGV[2]) > top) then
  redis.call('HSET', KEYS[1], 'top', ARGV[2])
end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'before', ARGV[3]) end
if ARGV[4] == '1' then redis.call('HSET', KEYS[1], 'done', '1') end
redis.call('ZADD', KEYS[2], 0, '')
for i = 5, #ARGV do redis.call('ZADD', KEYS[2], 0, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 1
"""
# KEYS: names. ARGV: prefix, prefix without its trailing space. Names starting with the
# prefix, and names equal to the bare prefix (a thread named `#80`).
LOOKUP = """
local bare = ARGV[2] .. '\\31'
local a = redis.call('ZRANGEBYLEX', KEYS[1], '[' .. ARGV[1], '[' .. ARGV[1] .. '\\255')
local b = redis.call('ZRANGEBYLEX', KEYS[1], '[' .. bare, '[' .. bare .. '\\255')
for _, m in ipairs(b) do a[#a + 1] = m end
return a
"""
DROP = "return redis.call('ZREM', KEYS[1], ARGV[1])"


def _member(thread: ThreadInfo) -> str:
    return f"{thread.name}{SEP}{thread.id}"


def _stamp(thread: ThreadInfo) -> float | None:
    """Return when the thread was archived (epoch s), None when Discord did not say."""
    if thread.archived_at is None:
        return None
    return datetime.fromisoformat(thread.archived_at).timestamp()


def _newer(thread: ThreadInfo, since: float | None) -> bool:
    """Tell whether the thread may have been archived after `since` (unknown: it may)."""
    stamp = _stamp(thread)
    return since is None or stamp is None or stamp > since


class ArchiveIndex:
    """Finds archived threads by name prefix through an index of the channel's archive."""

    def __init__(self, store: Store, discord: DiscordAdapter) -> None:
        self.data = store.data
        self.discord = discord
        self._state = store.data.script(STATE)
        self._add = store.data.script(ADD)
        self._lookup = store.data.script(LOOKUP)
        self._drop = store.data.script(DROP)

    def _keys(self, channel_id: int) -> list[tuple[str, ...]]:
        return [("archive", str(channel_id)), ("archived", str(channel_id))]

    async def find(self, channel_id: int, prefix: str) -> ThreadInfo | None:
        """Return the archived thread named with `prefix`, None when the archive has none.

        Raise an uncounted RetryAfterError while the index is still being built: the run comes
        back and goes on from where this step stopped.
        """
        raw = await self._state(self._keys(channel_id))
        state = dict(zip(raw[::2], raw[1::2], strict=True))
        if state:
            await self._catch_up(channel_id, state.get("top"))
            found = await self._indexed(channel_id, prefix)
            if found is not None or state.get("done"):
                return found
        return await self._scan(channel_id, prefix, state.get("before"))

    async def _save(
        self,
        channel_id: int,
        threads: list[ThreadInfo],
        top: float | None = None,
        before: str | None = None,
        done: bool = False,
    ) -> None:
        stamp = "" if top is None else repr(top)
        args: list[str | int] = [INDEX_TTL_MS, stamp, before or "", "1" if done else "0"]
        await self._add(self._keys(channel_id), [*args, *(_member(t) for t in threads)])

    async def _catch_up(self, channel_id: int, top: str | None) -> None:
        # Threads archived since the newest one indexed: a page or two, newest first.
        since = None if top is None else float(top)
        before = None
        for page_number in range(CATCH_UP_PAGES):
            page = await self.discord.archived_page(channel_id, before)
            newer = [t for t in page.threads if _newer(t, since)]
            newest = _stamp(page.threads[0]) if page_number == 0 and page.threads else None
            await self._save(channel_id, newer, top=newest)
            if len(newer) < len(page.threads) or page.next_before is None:
                return
            before = page.next_before

    async def _indexed(self, channel_id: int, prefix: str) -> ThreadInfo | None:
        names = await self._lookup([("archived", str(channel_id))], [prefix, prefix.rstrip()])
        candidates = sorted(
            (m for m in names if render.has_prefix(m.rsplit(SEP, 1)[0], prefix)),
            key=lambda m: -int(m.rsplit(SEP, 1)[1]),
        )
        for member in candidates:
            thread = await self._current(int(member.rsplit(SEP, 1)[1]), prefix)
            if thread is not None:
                return thread
            await self._drop([("archived", str(channel_id))], [member])
        return None

    async def _current(self, thread_id: int, prefix: str) -> ThreadInfo | None:
        # The index may be old: the thread may be gone or renamed since.
        try:
            thread = await self.discord.thread(thread_id)
        except DiscordApiError as exc:
            if exc.code != UNKNOWN_CHANNEL:
                raise
            return None
        return thread if render.has_prefix(thread.name, prefix) else None

    async def _scan(self, channel_id: int, prefix: str, before: str | None) -> ThreadInfo | None:
        # One scan per channel at a time; the others wait for it without spending a retry.
        token = uuid.uuid4().hex
        lock = f"archive:{channel_id}"
        if not await self.data.lock(lock, token, SCAN_LOCK_TTL_MS):
            raise RetryAfterError(
                f"channel {channel_id}: another run is indexing archived threads",
                WAIT_FOR_SCAN_S,
                counted=False,
            )
        try:
            return await self._scan_pages(channel_id, prefix, before)
        finally:
            await self.data.unlock(lock, token)

    async def _scan_pages(
        self, channel_id: int, prefix: str, before: str | None
    ) -> ThreadInfo | None:
        fresh = before is None  # a new index starts from the newest page: it sets `top`
        for _ in range(SCAN_PAGES):
            page = await self.discord.archived_page(channel_id, before)
            top = _stamp(page.threads[0]) if fresh and page.threads else None
            done = page.next_before is None
            await self._save(channel_id, page.threads, top, page.next_before, done)
            fresh = False
            for thread in page.threads:
                if render.has_prefix(thread.name, prefix):
                    return thread
            if done:
                return None
            before = page.next_before
        log.info("channel %s: archived threads indexed back to %s; continuing", channel_id, before)
        raise RetryAfterError(
            f"channel {channel_id}: archived threads indexed back to {before}; continuing",
            0,
            counted=False,
        )
