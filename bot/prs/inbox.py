"""Messages people write in PR threads, recorded as events like deliveries (from the gateway).

Each message created, edited or deleted in a thread the store maps to a PR becomes one event,
deduplicated by its id as a delivery is: `discord-msg-<id>-c`, `-u-<edited ms>`, `-d`, so the
events Discord sends again after a resume, or twice, are recorded once. prbot's own messages,
Discord's system messages and updates that are no edit (embeds unfurled, pins) are not recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bot.discord.gateway import DeletedMessage, ReceivedMessage
from bot.prs.mapping import ThreadStore
from bot.runtime import Event, Store, StoreUnavailableError

log = logging.getLogger(__name__)

CREATED = "discord/message.created"
UPDATED = "discord/message.updated"
DELETED = "discord/message.deleted"
# A store that does not answer is asked again, waiting 0.5, 1, 2 … 30 s: about 2.5 minutes.
RECORD_ATTEMPTS = 10
MAX_WAIT_S = 30.0

Send = Callable[[Sequence[Event]], Awaitable[object]]
Sleep = Callable[[float], Awaitable[None]]


def _ms(message: ReceivedMessage) -> int:
    return int(message.edited_at.timestamp() * 1000) if message.edited_at else 0


def _pr_fields(pr: str) -> dict[str, Any]:
    repo, _, number = pr.rpartition("#")
    return {"pr": pr, "repo": repo, "number": int(number)}


def message_url(guild_id: int | None, channel_id: int, message_id: int) -> str:
    """Return the link Discord's "Copy Message Link" gives."""
    return f"https://discord.com/channels/{guild_id or '@me'}/{channel_id}/{message_id}"


def message_event(message: ReceivedMessage, pr: str, edited: bool) -> Event:
    """Return the event of a message created (or edited) in the thread of `pr`."""
    suffix = f"u-{_ms(message)}" if edited else "c"
    data = {
        **_pr_fields(pr),
        "message_id": str(message.id),
        "thread_id": str(message.channel_id),
        "guild_id": str(message.guild_id) if message.guild_id else None,
        "url": message_url(message.guild_id, message.channel_id, message.id),
        "author": {
            "id": str(message.author_id),
            "name": message.author_name,
            "bot": message.author_bot,
            "webhook_id": str(message.webhook_id) if message.webhook_id else None,
        },
        "content": message.content,
        "attachments": list(message.attachment_urls),
        "reply_to": str(message.reference_id) if message.reference_id else None,
        "mentions": [str(m) for m in message.mention_ids],
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
    }
    name = UPDATED if edited else CREATED
    return Event(name=name, id=f"discord-msg-{message.id}-{suffix}", data=data)


def deleted_event(message: DeletedMessage, pr: str) -> Event:
    """Return the event of a message deleted from the thread of `pr`."""
    data = {
        **_pr_fields(pr),
        "message_id": str(message.id),
        "thread_id": str(message.channel_id),
        "guild_id": str(message.guild_id) if message.guild_id else None,
    }
    return Event(name=DELETED, id=f"discord-msg-{message.id}-d", data=data)


class ThreadInbox:
    """The gateway callbacks: record PR-thread messages as events, retrying while Redis is down.

    The gateway hands messages on one at a time, so a message waiting for the store holds back
    the ones after it (in memory) and the order is kept.
    """

    def __init__(self, store: Store, send: Send, sleep: Sleep, bot_id: Callable[[], int | None]):
        self.threads = ThreadStore(store)
        self.send = send
        self.sleep = sleep
        self.bot_id = bot_id
        self.recorded = 0

    async def on_created(self, message: ReceivedMessage) -> None:
        """Record a new message."""
        if self._skip(message):
            return
        await self._record(
            message.id, message.channel_id, lambda pr: message_event(message, pr, False)
        )

    async def on_updated(self, message: ReceivedMessage) -> None:
        """Record an edit (not an embed unfurled or a pin, which have no edit time)."""
        if self._skip(message) or message.edited_at is None:
            return
        await self._record(
            message.id, message.channel_id, lambda pr: message_event(message, pr, True)
        )

    async def on_deleted(self, message: DeletedMessage) -> None:
        """Record a deletion."""
        await self._record(message.id, message.channel_id, lambda pr: deleted_event(message, pr))

    def _skip(self, message: ReceivedMessage) -> bool:
        return message.system or message.author_id == self.bot_id()

    async def _record(self, message_id: int, thread_id: int, make: Callable[[str], Event]) -> None:
        wait_s = 0.5
        for attempt in range(1, RECORD_ATTEMPTS + 1):
            try:
                pr = await self.threads.pr_of_thread(thread_id)
                if pr is None:
                    return  # not a PR thread
                await self.send([make(pr)])
                self.recorded += 1
                return
            except StoreUnavailableError as exc:
                if attempt == RECORD_ATTEMPTS:
                    log.error(
                        "LOST Discord message %s in thread %s: not recorded after %d attempts "
                        "(%s); the gateway will not send it again",
                        message_id,
                        thread_id,
                        attempt,
                        exc,
                    )
                    return
                log.warning(
                    "recording Discord message %s failed (%s); again in %.1f s",
                    message_id,
                    exc,
                    wait_s,
                )
                await self.sleep(wait_s)
                wait_s = min(wait_s * 2, MAX_WAIT_S)
