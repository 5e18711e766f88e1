"""The PR → thread mapping kept in the store, and the per-PR lock around find-or-create."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.runtime import Store

LOCK_TTL_MS = 60_000


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


def _encode(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple | list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


class ThreadStore:
    """The PR key -> thread mapping; field-wise writes so concurrent functions never clobber."""

    def __init__(self, store: Store) -> None:
        self.data = store.data

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
        """Write a whole record (keeping a wanted title already stored)."""
        fields = record.model_dump(exclude={"title"} if record.title is None else set())
        await self.update(pr, **fields)

    async def update(self, pr: str, **fields: object) -> None:
        """Write some fields of the record."""
        await self.data.update("thread", pr, {k: _encode(v) for k, v in fields.items()})

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
