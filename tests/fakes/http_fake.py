"""What every fake server shares: serving on a free loopback port, control endpoints, a CLI.

    class FakeThing(LoopbackServer):
        def build_app(self) -> web.Application: ...

    async with FakeThing() as fake:   # port 0: any free port
        fake.base_url                 # http://127.0.0.1:PORT

``ControlledFake`` adds a fake clock and the ``/_fake`` endpoints (``GET /_fake/state``,
``POST /_fake/faults``, ``POST /_fake/clock``) that the REST fakes answer when run as their own
process with ``serve_until_signalled``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Protocol, Self

from aiohttp import web

from tests.fakes.discord_clock import FakeClock

JSONObject = dict[str, Any]


async def serve_app(
    app: web.Application, host: str = "127.0.0.1", port: int = 0
) -> tuple[web.AppRunner, int]:
    """Start serving ``app``; return its runner (``cleanup()`` stops it) and the bound port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner, int(runner.addresses[0][1])


class LoopbackServer(ABC):
    """An aiohttp server on a host and port (0 = any free port), used as a context manager."""

    scheme = "http"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    @abstractmethod
    def build_app(self) -> web.Application:
        """Return the application to serve (built anew by each ``start``)."""

    async def start(self) -> None:
        """Bind to the host and port and start serving."""
        self._runner, port = await serve_app(self.build_app(), self._host, self._port)
        self._base_url = f"{self.scheme}://{self._host}:{port}"

    async def stop(self) -> None:
        """Stop serving and close every connection."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (or ``ws://``) once started."""
        if self._base_url is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._base_url


class FaultControls(Protocol):
    """What the control endpoints need of a fault plan."""

    def update(self, data: Mapping[str, Any]) -> None:
        """Change the plan from a JSON object."""

    def to_json(self) -> JSONObject:
        """Return the plan as JSON."""


class ControlledFake(LoopbackServer):
    """A fake REST API on a fake clock, with faults and state reachable under ``/_fake``."""

    clock: FakeClock

    @property
    @abstractmethod
    def faults(self) -> FaultControls:
        """The fault plan in force."""

    @abstractmethod
    def snapshot(self) -> JSONObject:
        """Return state, request counters and fault plan as JSON (``GET /_fake/state``)."""

    @abstractmethod
    def api_application(self) -> web.Application:
        """Return the application serving the fake API itself."""

    def now(self) -> float:
        """Return the fake time (epoch seconds)."""
        return self.clock.now()

    def advance(self, seconds: float) -> None:
        """Move the fake clock forward (limits, windows and expiries follow it)."""
        self.clock.advance(seconds)

    def build_app(self) -> web.Application:
        """Return the API with the control endpoints beside it."""
        app = self.api_application()
        app.router.add_get("/_fake/state", self._get_state)
        app.router.add_post("/_fake/faults", self._post_faults)
        app.router.add_post("/_fake/clock", self._post_clock)
        return app

    async def _get_state(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.snapshot())

    async def _post_faults(self, request: web.Request) -> web.StreamResponse:
        self.faults.update(await request.json())
        return web.json_response(self.faults.to_json())

    async def _post_clock(self, request: web.Request) -> web.StreamResponse:
        data = await request.json()
        self.advance(float(data.get("advance_s", 0.0)))
        return web.json_response({"now": self.now()})


# -- running as a process ----------------------------------------------------------------------


def fake_parser(description: str | None) -> argparse.ArgumentParser:
    """Return a parser with the options every fake process takes (where, latency, dice)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--p5xx", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    return parser


async def serve_until_signalled(
    fake: LoopbackServer, describe: Callable[[], Mapping[str, Any]]
) -> None:
    """Serve ``fake`` until SIGINT/SIGTERM, after printing ``describe()`` as one JSON line."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with fake:
        print(json.dumps(describe()), flush=True)
        await stop.wait()
