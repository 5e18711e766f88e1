"""Webhooks of the fake GitHub: real signed POSTs to a target, the delivery log, redelivery.

Sources: https://docs.github.com/webhooks/webhook-events-and-payloads#delivery-headers,
https://docs.github.com/rest/repos/webhooks#list-deliveries-for-a-repository-webhook (newest
first, ``cursor`` pagination through the ``Link`` header), and #redeliver-a-delivery (202; the
new attempt keeps the guid and is marked ``redelivery: true``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from typing import Any, Literal

import aiohttp

from tests.fakes.github_models import Delivery, Hook
from tests.fakes.github_rules import JSONObject, iso, not_found, validation_failed
from tests.fakes.github_state import GitHubState

HOOKSHOT_AGENT = "GitHub-Hookshot/f00dbab"
DELIVERY_TIMEOUT_S = 10.0
# What the target did: status code, status text, answer headers and body, duration.
_Outcome = tuple[int, str, dict[str, str], str | None, float]
TARGET_TYPES = {"repo": "repository", "org": "organization", "app": "integration"}


def sign(secret: str, body: bytes) -> dict[str, str]:
    """Return the ``X-Hub-Signature`` headers for ``body`` (HMAC of the exact bytes)."""
    key = secret.encode()
    return {
        "X-Hub-Signature": "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest(),
        "X-Hub-Signature-256": "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest(),
    }


def encode(payload: Any) -> bytes:
    """Serialize a payload the same way on every attempt, so redeliveries carry the same bytes."""
    return json.dumps(payload, separators=(",", ":")).encode()


class Hooks:
    """Send deliveries for the fake's webhooks and keep their history."""

    def __init__(self, state: GitHubState, *, timeout_s: float = DELIVERY_TIMEOUT_S) -> None:
        self.state = state
        self.timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None
        self._pending: set[asyncio.Task[Delivery]] = set()
        # Deliver `issue_comment` for comments made through the API (tests/fakes/github_echo.py).
        self.echo_comments = False

    def add(
        self,
        scope: Literal["repo", "org", "app"],
        owner: str,
        url: str,
        secret: str,
        events: list[str] | None = None,
    ) -> Hook:
        """Register a webhook that POSTs to ``url`` signed with ``secret``."""
        hook = Hook(self.state.next_id(), scope, owner, url, secret, events or ["*"])
        self.state.hooks[hook.id] = hook
        return hook

    def find(self, scope: str, owner: str, hook_id: int | None = None) -> Hook:
        """Return the hook ``hook_id`` of ``owner`` (or the App's only hook), or raise 404."""
        for hook in self.state.hooks.values():
            if (hook.scope, hook.owner) == (scope, owner) and hook_id in (None, hook.id):
                return hook
        raise not_found()

    def delivery(self, hook: Hook, delivery_id: int) -> Delivery:
        """Return one delivery of ``hook`` or raise 404."""
        found = self.state.deliveries.get(delivery_id)
        if found is None or found.hook_id != hook.id:
            raise not_found()
        return found

    def page(
        self, hook: Hook, *, cursor: str | None, per_page: int, status: str | None
    ) -> tuple[list[Delivery], str | None]:
        """Return one page of deliveries, newest first, and the cursor of the next page."""
        rows = sorted(
            (d for d in self.state.deliveries.values() if d.hook_id == hook.id),
            key=lambda d: d.id,
            reverse=True,
        )
        if status is not None:
            if status not in ("success", "failure"):
                raise validation_failed("Hook", "status", "invalid")
            rows = [d for d in rows if d.ok == (status == "success")]
        if cursor:
            start = _cursor_id(cursor)
            rows = [d for d in rows if d.id <= start]
        more = len(rows) > per_page
        return rows[:per_page], f"v1_{rows[per_page].id}" if more else None

    # -- sending -------------------------------------------------------------------------------

    async def deliver(
        self,
        hook: Hook,
        event: str,
        payload: Mapping[str, Any],
        *,
        guid: str | None = None,
        redelivery: bool = False,
    ) -> Delivery:
        """POST ``payload`` to the hook's URL now and record the attempt, failed or not."""
        if "*" not in hook.events and event not in hook.events:
            raise ValueError(f"hook {hook.id} is not subscribed to {event!r}")
        guid = guid or str(uuid.uuid4())
        body = encode(payload)
        headers = self._headers(hook, guid, event, body)
        started = time.monotonic()
        code, status, answer_headers, answer = await self._post(hook.url, body, headers)
        return self._record(
            hook, guid, event, dict(payload), headers, redelivery,
            (code, status, answer_headers, answer, time.monotonic() - started),
        )  # fmt: skip

    def record(
        self,
        hook: Hook,
        event: str,
        payload: Mapping[str, Any],
        *,
        status_code: int,
        guid: str | None = None,
        redelivery: bool = False,
    ) -> Delivery:
        """Record an attempt without sending it (history from before a test started)."""
        guid = guid or str(uuid.uuid4())
        headers = self._headers(hook, guid, event, encode(payload))
        status = _status_text(status_code, "failed to connect to host")
        outcome: _Outcome = (status_code, status, {}, None, 0.1)
        return self._record(hook, guid, event, dict(payload), headers, redelivery, outcome)

    def redeliver(self, hook: Hook, delivery: Delivery) -> None:
        """Start a new attempt of ``delivery`` in the background (the API answers 202 first)."""
        task = asyncio.get_running_loop().create_task(
            self.deliver(
                hook, delivery.event, delivery.payload, guid=delivery.guid, redelivery=True
            )
        )
        self.track(task)

    def track(self, task: asyncio.Task[Delivery]) -> None:
        """Keep a background delivery until it is done (``settle`` waits for it)."""
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def settle(self) -> None:
        """Wait until every background redelivery has been attempted."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def close(self) -> None:
        """Finish background attempts and close the HTTP session."""
        await self.settle()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _headers(self, hook: Hook, guid: str, event: str, body: bytes) -> dict[str, str]:
        return {
            "Accept": "*/*",
            "Content-Type": "application/json",
            "User-Agent": HOOKSHOT_AGENT,
            "X-GitHub-Delivery": guid,
            "X-GitHub-Event": event,
            "X-GitHub-Hook-ID": str(hook.id),
            "X-GitHub-Hook-Installation-Target-ID": hook.owner,
            "X-GitHub-Hook-Installation-Target-Type": TARGET_TYPES[hook.scope],
            **sign(hook.secret, body),
        }

    async def _post(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, str, dict[str, str], str | None]:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s)
            )
        try:
            async with self._session.post(url, data=body, headers=headers) as answer:
                text = (await answer.text(errors="replace"))[:1024]
                code = answer.status
                return code, _status_text(code, ""), dict(answer.headers), text
        except TimeoutError:
            return 0, "timed out", {}, None
        except aiohttp.ClientError:
            return 0, "failed to connect to host", {}, None

    def _record(
        self,
        hook: Hook,
        guid: str,
        event: str,
        payload: JSONObject,
        headers: dict[str, str],
        redelivery: bool,
        outcome: _Outcome,
    ) -> Delivery:
        code, status, answer_headers, answer, duration = outcome
        installation = payload.get("installation")
        repository = payload.get("repository")
        delivery = Delivery(
            id=self.state.next_delivery_id(),
            guid=guid,
            hook_id=hook.id,
            delivered_at=self.state.clock.now(),
            redelivery=redelivery,
            duration=round(duration, 2),
            status=status,
            status_code=code,
            event=event,
            action=payload.get("action") if isinstance(payload.get("action"), str) else None,
            installation_id=installation.get("id") if isinstance(installation, dict) else None,
            repository_id=repository.get("id") if isinstance(repository, dict) else None,
            request_headers=headers,
            payload=payload,
            response_headers=answer_headers,
            response_body=answer,
        )
        self.state.deliveries[delivery.id] = delivery
        return delivery


def _status_text(code: int, unreachable: str) -> str:
    if code == 0:
        return unreachable
    return "OK" if 200 <= code < 300 else f"Invalid HTTP Response: {code}"


def _cursor_id(cursor: str) -> int:
    raw = cursor.removeprefix("v1_")
    if not raw.isdigit():
        raise validation_failed("Hook", "cursor", "invalid")
    return int(raw)


def item_json(delivery: Delivery) -> JSONObject:
    """Return a ``hook-delivery-item``."""
    return {
        "id": delivery.id,
        "guid": delivery.guid,
        "delivered_at": iso(delivery.delivered_at),
        "redelivery": delivery.redelivery,
        "duration": delivery.duration,
        "status": delivery.status,
        "status_code": delivery.status_code,
        "event": delivery.event,
        "action": delivery.action,
        "installation_id": delivery.installation_id,
        "repository_id": delivery.repository_id,
        "throttled_at": None,
    }


def delivery_json(delivery: Delivery, url: str) -> JSONObject:
    """Return a ``hook-delivery``: the item plus what was sent and what came back."""
    return {
        **item_json(delivery),
        "url": url,
        "request": {"headers": delivery.request_headers, "payload": delivery.payload},
        "response": {"headers": delivery.response_headers, "payload": delivery.response_body},
    }
