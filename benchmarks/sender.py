"""The GitHub side of the soak: each PR's deliveries posted in order, signed, retried on 503."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import httpx

from benchmarks.stories import Item, Plan, Story
from bot.web.app import WEBHOOK_PATH

SECRET = "soak-webhook-secret-0123456789"


class Sender:
    """Posts each PR's lane in order, as GitHub would; retries 503s and refused connections."""

    def __init__(self, client: httpx.AsyncClient, deadline: float) -> None:
        self.client = client
        self.deadline = deadline
        self.answers: Counter[str] = Counter()
        self.retries = 0

    async def post(self, item: Item) -> None:
        """Send one delivery until it is accepted (202 queued/duplicate)."""
        headers = item.delivery.signed_headers(SECRET)
        while True:
            try:
                response = await self.client.post(
                    WEBHOOK_PATH, content=item.delivery.body, headers=headers
                )
                if response.status_code in (200, 202):
                    self.answers[response.json()["status"]] += 1
                    return
                if response.status_code != 503:
                    raise RuntimeError(f"delivery refused: {response.status_code} {response.text}")
            except httpx.TransportError:
                pass  # the web process is busy or Redis restarts: GitHub would be redelivered
            self.retries += 1
            if time.monotonic() > self.deadline:
                raise TimeoutError("a delivery was never accepted")
            await asyncio.sleep(0.2)

    async def lane(self, story: Story, send_s: float, rng: random.Random) -> None:
        """Send a PR's deliveries in order, spread over about `send_s` seconds."""
        await asyncio.sleep(rng.uniform(0, send_s / 4))
        pause_s = 0.75 * send_s / max(1, len(story.lane))
        for item in story.lane:
            await self.post(item)
            if not item.burst:
                await asyncio.sleep(rng.uniform(0, 2 * pause_s))

    async def send(self, plan: Plan, send_s: float, seed: int) -> None:
        """Send every lane concurrently."""
        rngs = [random.Random(seed * 1000 + i) for i in range(len(plan.stories))]
        await asyncio.gather(
            *(self.lane(s, send_s, r) for s, r in zip(plan.stories, rngs, strict=True))
        )
