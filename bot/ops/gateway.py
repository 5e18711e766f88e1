"""The gateway role: one Discord gateway connection recording PR-thread messages as events.

It only records (`Runtime.send`, deduplicated like deliveries); workers run the functions.
Run one per bot: every connection gets every message (the events would dedup, at a cost).
A login that fails for a passing reason is tried again; Discord refusing the connection for
good (4004 bad token, 4014 MESSAGE_CONTENT not enabled) is logged as what to do, once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.discord.gateway import PORTAL_HINT, Gateway, GatewayError
from bot.prs.inbox import ThreadInbox
from bot.runtime import RetriableError, Runtime
from bot.settings import Settings

log = logging.getLogger(__name__)

LOGIN_MAX_WAIT_S = 60.0


class GatewayRole:
    """Connects, records, reconnects; `state` says how it goes (for /readyz and the logs)."""

    def __init__(
        self,
        settings: Settings,
        runtime: Runtime,
        *,
        required: bool,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        guild_ready_timeout_s: float = 2.0,
    ) -> None:
        if settings.discord_token is None:
            raise ValueError("the gateway needs DISCORD_TOKEN")
        self.required = required  # --role gateway: without the intent, fail; --role all: skip
        self.sleep = sleep
        self.state = "starting"
        self.error: GatewayError | None = None
        self.inbox = ThreadInbox(runtime.store, runtime.send, sleep, lambda: self.gateway.user_id)
        self.gateway = Gateway(
            settings.discord_token.get_secret_value(),
            api_base=settings.discord_api_base,
            gateway_url=settings.discord_gateway_url,
            on_created=self.inbox.on_created,
            on_updated=self.inbox.on_updated,
            on_deleted=self.inbox.on_deleted,
            sleep=sleep,
            guild_ready_timeout_s=guild_ready_timeout_s,
        )

    def is_ready(self) -> bool:
        """Tell whether a session is up (or the gateway is off on purpose)."""
        return self.gateway.connected or self.state == "off"

    async def run(self) -> bool:
        """Run until `close`; False when Discord refused the connection for good."""
        try:
            if not await self._login() or self.state == "closing":
                return self.state == "closing"
            if not self.gateway.message_content_allowed:
                why = "the application's flags say MESSAGE CONTENT INTENT is off"
                if not self.required:
                    log.warning("Discord gateway not started: %s; to record replies, %s",
                                why, PORTAL_HINT)  # fmt: skip
                    self.state = "off"
                    return True
                log.warning("%s; connecting anyway (Discord closes with 4014 if so)", why)
            self.state = "connecting"
            await self.gateway.run()
            self.state = "closed"
            return True
        except GatewayError as exc:
            self.error, self.state = exc, f"refused: {exc}"
            log.error("Discord gateway: %s", exc)
            return False
        except Exception:  # never take the process down with it; say so loudly
            self.state = "crashed"
            log.exception("Discord gateway stopped: messages are not recorded until a restart")
            return False
        finally:
            await self.gateway.close()

    async def _login(self) -> bool:
        wait_s = 1.0
        while self.state != "closing":
            try:
                await self.gateway.login()
                return True
            except RetriableError as exc:
                log.warning("Discord gateway login failed (%s); again in %.0f s", exc, wait_s)
                await self.sleep(wait_s)
                wait_s = min(wait_s * 2, LOGIN_MAX_WAIT_S)
        return False

    async def close(self) -> None:
        """Close the connection; messages already received are recorded first."""
        self.state = "closing"
        await self.gateway.close()
