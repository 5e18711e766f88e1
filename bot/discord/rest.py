"""The Discord REST adapter on discord.py: no gateway, errors translated at this boundary.

With `max_ratelimit_timeout`, discord.py raises `RateLimited` instead of sleeping through a long
limit (such as the 600 s rename limit), which becomes `RetryAfterError` so the runtime reschedules
the run rather than block a worker. A write answered with a 5xx is never repeated in-process
(`bot.discord.errors`): the step retries later and first looks for what the write may have done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal, TypeVar, cast

from pydantic import ValidationError

from bot.discord.errors import lost_write_trace, translated
from bot.discord.http import DEFAULT_API_BASE, Sleep, discord, use_discord_http
from bot.discord.pacing import Pacer
from bot.discord.payloads import Channel, Message, Payload, Snowflake, ThreadPage
from bot.discord.shapes import (
    UNKNOWN_MESSAGE,
    ArchivedPage,
    ChannelInfo,
    DiscordApiError,
    EmbedSpec,
    OutMessage,
    PostedMessage,
    Recorder,
    ThreadEdit,
    ThreadInfo,
)
from bot.runtime import RetriableError

with_message_parameters = discord.http.handle_message_parameters
MISSING: Any = discord.utils.MISSING

log = logging.getLogger(__name__)

# Longest rate limit discord.py may wait out in-process; longer ones reschedule the run.
# discord.py never accepts less than 30 s.
MAX_RATELIMIT_WAIT_S = 30.0
# https://discord.com/developers/docs/resources/channel#channel-object-channel-types
PUBLIC_THREAD: Literal[11] = 11
FORUM_TYPES = (15, 16)  # forum and media channels
ARCHIVED_PAGE = 100
HISTORY_PAGE = 100
# Pages of history read forward from the last message prbot knows of, looking for its own.
HISTORY_PAGES = 5


P = TypeVar("P", bound=Payload)


def _parse(model: type[P], data: object, route: str) -> P:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RetriableError(f"unexpected Discord response on {route}: {exc}") from exc


def _embed(spec: EmbedSpec) -> discord.Embed:
    embed = discord.Embed(
        title=spec.title, url=spec.url, description=spec.description, color=spec.color
    )
    if spec.author:
        embed.set_author(name=spec.author)
    for f in spec.fields:
        embed.add_field(name=f.name, value=f.value, inline=f.inline)
    if spec.footer:
        embed.set_footer(text=spec.footer)
    return embed


def allowed_mentions(user_ids: Sequence[int]) -> discord.AllowedMentions:
    """Never @everyone, @here or roles; only the mapped users this message means to ping."""
    users: list[discord.Object] | bool = [discord.Object(id=i) for i in user_ids] or False
    return discord.AllowedMentions(everyone=False, roles=False, users=users, replied_user=False)


class DiscordRestAdapter:
    """`DiscordAdapter` over discord.py's HTTP client, logged in with a bot token."""

    def __init__(self, client: discord.Client, recorder: Recorder | None = None) -> None:
        self.client = client
        self._channels: dict[int, ChannelInfo] = {}
        self._record = recorder
        # Set once the store is known (see bot.discord.pacing); None: discord.py's own limits only.
        self.pacer: Pacer | None = None

    @classmethod
    async def login(
        cls,
        token: str,
        api_base: str = DEFAULT_API_BASE,
        *,
        sleep: Sleep = asyncio.sleep,
        recorder: Recorder | None = None,
    ) -> DiscordRestAdapter:
        """Log in over REST (users/@me, applications/@me) against `api_base`; no gateway.

        discord.py waits inside its HTTP client (bucket resets, 429s up to 30 s, 5xx retries);
        those waits go through `sleep`.
        """
        use_discord_http(api_base, sleep)
        client = discord.Client(
            intents=discord.Intents.none(),
            max_ratelimit_timeout=MAX_RATELIMIT_WAIT_S,
            http_trace=lost_write_trace(),
        )
        adapter = cls(client, recorder)
        try:
            with translated("GET /users/@me", recorder):
                await client.login(token)
        except BaseException:
            await client.close()
            raise
        return adapter

    async def respond(self, application_id: int, token: str, message: OutMessage) -> None:
        """Edit an interaction's deferred answer (`PATCH …/messages/@original`).

        The interaction token authorises it for 15 minutes; the same edit twice changes
        nothing, so a retried step may repeat it.
        """
        route = "PATCH /webhooks/{id}/{token}/messages/@original"
        path = "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
        target = discord.http.Route("PATCH", path, webhook_id=application_id, webhook_token=token)
        payload = {
            "content": message.content,
            "embeds": [_embed(e).to_dict() for e in message.embeds],
            "allowed_mentions": allowed_mentions(message.mention_users).to_dict(),
        }
        async with self._call(route):
            await self.client.http.request(target, json=payload)

    async def close(self) -> None:
        """Close discord.py's HTTP session."""
        await self.client.close()

    @asynccontextmanager
    async def _call(self, route: str) -> AsyncIterator[None]:
        """Wait for the shared global pace, then make one call with errors translated."""
        if self.pacer is not None:
            await self.pacer.wait()
        with translated(route, self._record):
            yield

    async def channel(self, channel_id: int) -> ChannelInfo:
        """Return the channel's kind, guild and forum tags (cached per process)."""
        if channel_id in self._channels:
            return self._channels[channel_id]
        route = "GET /channels/{id}"
        async with self._call(route):
            data = await self.client.http.get_channel(channel_id)
        ch = _parse(Channel, data, route)
        tags = {t.name.casefold(): t.id for t in ch.available_tags}
        info = ChannelInfo(ch.id, ch.guild_id, ch.type in FORUM_TYPES, tags)
        self._channels[channel_id] = info
        return info

    async def create_thread(self, channel_id: int, name: str, auto_archive_min: int) -> ThreadInfo:
        """Create a public thread (type 11, not the private default) in a text channel."""
        route = "POST /channels/{id}/threads"
        async with self._call(route):
            data = await self.client.http.start_thread_without_message(
                channel_id,
                name=name,
                auto_archive_duration=cast(Any, auto_archive_min),
                type=PUBLIC_THREAD,
            )
        return _parse(Channel, data, route).thread()

    async def create_forum_post(
        self,
        channel_id: int,
        name: str,
        message: OutMessage,
        auto_archive_min: int,
        tags: Sequence[int],
    ) -> ThreadInfo:
        """Create a forum post whose first message is `message`, with `tags` applied."""
        route = "POST /channels/{id}/threads (forum)"
        channel_payload: dict[str, Any] = {
            "name": name,
            "auto_archive_duration": auto_archive_min,
            "applied_tags": [str(t) for t in tags],
        }
        params = with_message_parameters(
            content=message.content or MISSING,
            embeds=[_embed(e) for e in message.embeds],
            allowed_mentions=allowed_mentions(message.mention_users),
            channel_payload=channel_payload,
        )
        async with self._call(route):
            data = await self.client.http.start_thread_in_forum(channel_id, params=params)
        return _parse(Channel, data, route).thread()

    async def send(self, thread_id: int, message: OutMessage, nonce: str) -> int:
        """Post with `nonce` and `enforce_nonce` (discord.py adds it whenever a nonce is given)."""
        route = "POST /channels/{id}/messages"
        params = with_message_parameters(
            content=message.content or MISSING,
            embeds=[_embed(e) for e in message.embeds],
            allowed_mentions=allowed_mentions(message.mention_users),
            nonce=nonce,
        )
        async with self._call(route):
            data = await self.client.http.send_message(thread_id, params=params)
        return _parse(Snowflake, data, route).id

    async def edit_thread(self, thread_id: int, edit: ThreadEdit) -> ThreadInfo:
        """PATCH a thread; callers send `archived=False` with any edit of an archived thread."""
        route = "PATCH /channels/{id}"
        options: dict[str, Any] = {}
        if edit.name is not None:
            options["name"] = edit.name
        if edit.archived is not None:
            options["archived"] = edit.archived
        if edit.locked is not None:
            options["locked"] = edit.locked
        if edit.applied_tags is not None:
            options["applied_tags"] = [str(t) for t in edit.applied_tags]
        async with self._call(route):
            data = await self.client.http.edit_channel(thread_id, **options)
        return _parse(Channel, data, route).thread()

    async def edit_message(self, channel_id: int, message_id: int, message: OutMessage) -> None:
        """PATCH a message's content and embeds (an empty content clears it), mentions explicit."""
        route = "PATCH /channels/{id}/messages/{id}"
        params = with_message_parameters(
            content=message.content,
            embeds=[_embed(e) for e in message.embeds],
            allowed_mentions=allowed_mentions(message.mention_users),
        )
        async with self._call(route):
            await self.client.http.edit_message(channel_id, message_id, params=params)

    async def delete_message(self, channel_id: int, message_id: int) -> bool:
        """DELETE a message; False when Discord no longer knows it (Unknown Message)."""
        route = "DELETE /channels/{id}/messages/{id}"
        try:
            async with self._call(route):
                await self.client.http.delete_message(channel_id, message_id)
        except DiscordApiError as exc:
            if exc.code == UNKNOWN_MESSAGE:
                return False
            raise
        return True

    async def thread(self, thread_id: int) -> ThreadInfo:
        """Return a thread as Discord has it now (GET /channels/{id})."""
        route = "GET /channels/{id} (thread)"
        async with self._call(route):
            data = await self.client.http.get_channel(thread_id)
        return _parse(Channel, data, route).thread()

    async def own_messages(self, channel_id: int, after: int | None) -> list[PostedMessage]:
        """Return the bot's messages after `after` (None: among the newest 100), oldest first.

        Discord answers newest first even with `after` (the oldest page after it), so the next
        page starts after the highest id seen.
        """
        route = "GET /channels/{id}/messages"
        me = self.client.user.id if self.client.user is not None else None
        found: list[PostedMessage] = []
        for _ in range(HISTORY_PAGES if after is not None else 1):
            async with self._call(route):
                data = await self.client.http.logs_from(
                    channel_id, HISTORY_PAGE, after=cast(Any, after)
                )
            if not isinstance(data, list):
                raise RetriableError(f"unexpected Discord response on {route}: not a list")
            page = [_parse(Message, m, route) for m in data]
            found.extend(m.posted() for m in page if me is None or m.author.id == me)
            if len(page) < HISTORY_PAGE or after is None:
                break
            after = max(m.id for m in page)
        return sorted(found, key=lambda m: m.id)

    async def active_threads(self, channel: ChannelInfo) -> list[ThreadInfo]:
        """Return the guild's active threads whose parent is `channel`."""
        if channel.guild_id is None:
            return []
        route = "GET /guilds/{id}/threads/active"
        async with self._call(route):
            data = await self.client.http.get_active_threads(channel.guild_id)
        page = _parse(ThreadPage, data, route)
        return [t.thread() for t in page.threads if t.parent_id == channel.id]

    async def archived_threads(self, channel_id: int, max_pages: int) -> list[ThreadInfo]:
        """Return public archived threads, newest first, paging by archive timestamp."""
        found: list[ThreadInfo] = []
        before: str | None = None
        for _ in range(max_pages):
            page = await self.archived_page(channel_id, before)
            found.extend(page.threads)
            if page.next_before is None:
                break
            before = page.next_before
        return found

    async def archived_page(self, channel_id: int, before: str | None) -> ArchivedPage:
        """Return one page (100) of public archived threads archived before `before`."""
        route = "GET /channels/{id}/threads/archived/public"
        async with self._call(route):
            data = await self.client.http.get_public_archived_threads(
                channel_id, before=cast(Any, before), limit=ARCHIVED_PAGE
            )
        page = _parse(ThreadPage, data, route)
        threads = [t.thread() for t in page.threads]
        last = threads[-1].archived_at if threads else None
        return ArchivedPage(threads, last if page.has_more else None)
