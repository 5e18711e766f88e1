"""Loopback helpers shared by tests and benchmarks: a free port, waiting for a server."""

from __future__ import annotations

import asyncio
import socket
import time

import httpx


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def wait_until_up(base: str, timeout_s: float = 20.0, every_s: float = 0.05) -> None:
    """Poll `base`/healthz until it answers 200; raise when `timeout_s` passes first."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=base) as client:
        while True:
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
            await asyncio.sleep(every_s)
