"""The two servers the ingest benchmark measures, each in its own process.

`prbot serve --role web` is the real command line; the baseline is a bare FastAPI endpoint that
reads the body and answers 202, served by the same uvicorn set-up (`bot.serve.http_server`).
`python -m benchmarks.targets --port P` runs the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from bot.github.webhooks import DELIVERY_HEADER
from bot.ops.serve import http_server
from bot.web.app import WEBHOOK_PATH
from tests.loopback import free_port, wait_until_up

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent


def bare_app() -> FastAPI:
    """Return the baseline: read the body, answer 202, nothing else."""
    app = FastAPI()

    @app.post(WEBHOOK_PATH, status_code=202)
    async def receive(request: Request) -> JSONResponse:
        await request.body()
        delivery_id = request.headers.get(DELIVERY_HEADER, "")
        return JSONResponse({"id": delivery_id, "status": "queued"}, 202)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


async def serve_bare(port: int) -> int:
    """Serve the bare app the way `prbot serve` serves its own, until SIGTERM."""
    server = http_server(bare_app(), HOST, port)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, lambda: setattr(server, "should_exit", True))
    await server.serve()
    return 0


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) a live process has used so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Target:
    """A server under test: its name, base URL and process id."""

    name: str
    base: str
    pid: int


def _command(kind: str, port: int) -> list[str]:
    if kind == "bare":
        return [sys.executable, "-m", "benchmarks.targets", "--port", str(port)]
    serve = ["serve", "--role", "web", "--host", HOST, "--port", str(port)]
    return [sys.executable, "-m", "bot", *serve]


@asynccontextmanager
async def started(
    kind: str, name: str, env: dict[str, str], workdir: Path
) -> AsyncIterator[Target]:
    """Run `kind` (prbot or bare) in its own process until the block ends, then SIGTERM it.

    prbot gets only `env` (plus PATH) and runs in `workdir`, so no `.env` or setting of the
    caller's leaks in.
    """
    port = free_port()
    environ = {"PATH": os.environ.get("PATH", ""), **env}
    with tempfile.TemporaryFile() as log:
        process = await asyncio.create_subprocess_exec(
            *_command(kind, port), stdout=asyncio.subprocess.DEVNULL, stderr=log, env=environ,
            cwd=workdir if kind == "prbot" else ROOT,
        )  # fmt: skip
        try:
            await wait_until_up(f"http://{HOST}:{port}")
            yield Target(name, f"http://{HOST}:{port}", process.pid)
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            if await asyncio.wait_for(process.wait(), 60) != 0:
                log.seek(0)
                sys.stderr.write(log.read().decode(errors="replace")[-4000:])


def main(argv: list[str] | None = None) -> int:
    """Serve the bare baseline on a port."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.targets", description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    return asyncio.run(serve_bare(parser.parse_args(argv).port))


if __name__ == "__main__":
    raise SystemExit(main())
