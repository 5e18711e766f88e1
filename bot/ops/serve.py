"""`prbot serve`: the webhook receiver and/or workers in one asyncio loop, stopped gracefully."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Literal

import uvicorn
from fastapi import FastAPI

from bot.ops.backfill import BackfillLoop, periodic_backfill
from bot.runtime import (
    Function,
    Limits,
    Runtime,
    RuntimeOptions,
    Store,
    StoreUnavailableError,
    Worker,
)
from bot.runtime.store import DAY_MS
from bot.settings import Settings
from bot.web.access import set_bind_host
from bot.web.app import create_app, set_draining
from bot.web.interactions import mount_interactions
from bot.web.metrics import Metrics, MetricsObserver, default_metrics

if TYPE_CHECKING:  # the gateway loads discord.py: only processes that run it import it
    from bot.ops.gateway import GatewayRole

log = logging.getLogger(__name__)

Role = Literal["all", "web", "worker", "gateway"]
# The functions, or a context that builds them from the store (and logs in to Discord) and
# closes what it opened when the service stops.
FunctionSource = (
    Iterable[Function]
    | Callable[[Store], contextlib.AbstractAsyncContextManager[Iterable[Function]]]
)
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
# After the workers stopped, requests still being answered get this long before they are cut.
HTTP_GRACE_S = 5
UNSIGNED_WARNING = (
    "!!! ALLOW_UNSIGNED_WEBHOOKS is on and GITHUB_WEBHOOK_SECRET is not set: anyone who can reach "
    "this port can inject events. For local development only. !!!"
)


def startup_problem(settings: Settings, role: Role) -> str | None:
    """Return why `prbot serve` must refuse to start with these settings, or None."""
    receives = role in ("all", "web")
    if role == "gateway" and settings.discord_token is None:
        return "--role gateway needs DISCORD_TOKEN: it connects to Discord's gateway as the bot"
    if receives and settings.github_webhook_secret is None and not settings.allow_unsigned_webhooks:
        return (
            "GITHUB_WEBHOOK_SECRET is not set: refusing to accept unsigned webhooks "
            "(set it; ALLOW_UNSIGNED_WEBHOOKS=true is for local development only)"
        )
    if role != "all" and settings.embedded:
        return f"--role {role} needs REDIS_URL: the embedded store lives inside one process"
    return None


def build_store(settings: Settings) -> Store:
    """Connect the store with the delivery retention from the settings."""
    limits = Limits(
        events_max=settings.delivery_max,
        event_ttl_ms=int(settings.delivery_retention_days * DAY_MS),
    )
    return Store.connect(settings.redis_url, prefix=settings.redis_key_prefix, limits=limits)


class _Server(uvicorn.Server):
    """Uvicorn without its own signal handling: `serve` decides the shutdown order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Leave SIGTERM and SIGINT to `serve`."""
        yield


def http_server(app: FastAPI, host: str, port: int) -> uvicorn.Server:
    """Return the uvicorn server `prbot serve` (and the ingest benchmark) runs `app` with."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http="httptools",  # C parser: h11 spends twice the CPU on a 22 KB delivery (benchmarks/)
        log_config=None,  # logging is configured by the entry point
        access_log=False,  # the receiver logs one line per delivery itself
        server_header=False,
        lifespan="off",
        timeout_graceful_shutdown=HTTP_GRACE_S,
    )
    return _Server(config)


async def _serve_http(server: uvicorn.Server) -> bool:
    """Serve until told to exit; False when the server could not start (port taken...)."""
    try:
        await server.serve()
    except SystemExit:  # uvicorn exits on a failed bind; keep it out of the event loop
        return False
    return server.started


class Service:
    """What one `prbot serve` process runs: the HTTP app and, per role, a worker."""

    def __init__(
        self,
        settings: Settings,
        role: Role,
        store: Store,
        functions: Iterable[Function],
        *,
        metrics: Metrics | None = None,
        worker_ready: Callable[[], bool] | None = None,
        backfill: BackfillLoop | None = None,
        gateway: bool = False,
    ) -> None:
        self.settings = settings
        self.role = role
        self.store = store
        self.metrics = metrics or default_metrics()
        observer = MetricsObserver(self.metrics)
        options = RuntimeOptions(lease_ms=int(settings.run_visibility_timeout_s * 1000))
        self.runtime = Runtime(self.store, functions, options=options, observer=observer)
        runs = role in ("all", "worker")
        self.worker = Worker(self.runtime, settings.worker_concurrency) if runs else None
        self.worker_started = False
        self.gateway_task: asyncio.Task[bool] | None = None
        ready = worker_ready or (lambda: self.worker_started)
        # The gateway only records events; `--role all` skips it when the intent is off.
        required = role == "gateway"
        self.gateway: GatewayRole | None = None
        if gateway:
            from bot.ops.gateway import GatewayRole

            self.gateway = GatewayRole(settings, self.runtime, required=required)
        self.app = create_app(
            settings,
            self.runtime,
            metrics=self.metrics,
            worker_ready=ready if self.worker else None,
            webhooks=role in ("all", "web"),
            gateway_ready=self.gateway.is_ready if self.gateway and required else None,
        )
        self.backfill = backfill
        self._backfill_task: asyncio.Task[None] | None = None
        if role in ("all", "web") and settings.discord_public_key:
            mount_interactions(self.app, settings.discord_public_key, self.runtime)

    async def run(self, host: str, port: int, stop: asyncio.Event) -> int:
        """Serve until `stop` is set, then shut down in order; return the exit code."""
        await self._check_store()
        set_bind_host(self.app, host)  # the dashboard opens itself on loopback binds only
        server = http_server(self.app, host, port)
        http = asyncio.create_task(_serve_http(server), name="http")
        if self.worker is not None:
            await self.worker.start()
            self.worker_started = True
        if self.backfill is not None:
            self._backfill_task = asyncio.create_task(self.backfill.run_forever(), name="backfill")
        ended = {http}
        if self.gateway is not None:
            self.gateway_task = asyncio.create_task(self.gateway.run(), name="gateway")
            if self.role == "gateway":  # nothing else to do once it ends
                ended.add(self.gateway_task)
        log.info("prbot serving role=%s on %s:%d", self.role, host, port)
        stopped = asyncio.create_task(stop.wait(), name="stop")
        await asyncio.wait({*ended, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        code = EXIT_OK if stop.is_set() else EXIT_FAILED
        if code != EXIT_OK and http.done():
            log.error("HTTP server on %s:%d could not start or stopped on its own", host, port)
        await self.shutdown(server, http)
        return code

    async def _check_store(self) -> None:
        kind = "embedded store" if self.settings.embedded else "Redis"
        try:
            await self.store.ping()
        except StoreUnavailableError as exc:
            log.warning("%s does not answer yet (%s); /readyz reports it until it does", kind, exc)
        else:
            log.info("%s answers", kind)

    async def shutdown(self, server: uvicorn.Server, http: asyncio.Task[bool]) -> None:
        """Drain webhooks (503), stop the gateway and the worker within the timeout, then HTTP."""
        set_draining(self.app)
        if self._backfill_task is not None:
            self._backfill_task.cancel()
            await asyncio.gather(self._backfill_task, return_exceptions=True)
        if self.gateway_task is not None:
            await stop_gateway(self.gateway, self.gateway_task, self.settings.shutdown_timeout_s)
        if self.worker is not None and self.worker_started:
            timeout_s = self.settings.shutdown_timeout_s
            log.info(
                "stopping: %d runs in flight, waiting up to %.0f s", self.worker.inflight, timeout_s
            )
            await self.worker.stop(timeout_s)
        server.should_exit = True
        await http
        log.info("prbot stopped")


async def stop_gateway(
    gateway: GatewayRole | None, task: asyncio.Task[bool], timeout_s: float
) -> None:
    """Close the gateway, letting it record what it already received, within `timeout_s`."""
    if gateway is not None:
        logging_in = gateway.state == "starting"
        await gateway.close()
        if logging_in:  # nothing received yet: no need to wait out a login retry's wait
            task.cancel()
    done, _ = await asyncio.wait({task}, timeout=max(timeout_s, 1.0))
    if not done:
        log.warning("the gateway did not stop in time; cancelling it")
        task.cancel()


@contextlib.contextmanager
def _stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)

    def on_signal(sig: signal.Signals) -> None:
        log.info("received %s: shutting down", sig.name)
        stop.set()

    for sig in signals:
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        yield
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


async def _enter_functions(
    stack: contextlib.AsyncExitStack, functions: FunctionSource, store: Store
) -> list[Function] | None:
    """Return the functions (logging in to Discord, if the source does); None on failure."""
    if not callable(functions):
        return list(functions)
    try:
        return list(await stack.enter_async_context(functions(store)))
    except Exception as exc:  # whatever setting up the functions raised, report it and stop
        log.error("cannot start: setting up the functions failed: %s: %s", type(exc).__name__, exc)
        return None


async def serve(
    settings: Settings,
    host: str,
    port: int,
    role: Role,
    functions: FunctionSource,
    *,
    worker_ready: Callable[[], bool] | None = None,
) -> int:
    """Run `prbot serve` until SIGTERM or SIGINT; return the process exit code."""
    problem = startup_problem(settings, role)
    if problem is not None:
        log.error("cannot start: %s", problem)
        return EXIT_CONFIG
    if role in ("all", "web") and settings.github_webhook_secret is None:
        log.warning(UNSIGNED_WARNING)
    stop = asyncio.Event()
    store = build_store(settings)
    try:
        with _stop_on_signals(stop):
            async with contextlib.AsyncExitStack() as stack:
                built = await _enter_functions(stack, functions, store)
                if built is None:
                    return EXIT_FAILED
                backfill = (
                    await stack.enter_async_context(
                        periodic_backfill(settings, store, default_metrics())
                    )
                    if role in ("all", "worker")
                    else None
                )
                gateway = role == "gateway" or (
                    role == "all" and settings.discord_token is not None
                )
                service = Service(
                    settings, role, store, built, worker_ready=worker_ready,
                    backfill=backfill, gateway=gateway,
                )  # fmt: skip
                return await service.run(host, port, stop)
    finally:
        await store.close()
