"""Real processes on loopback for the soak: Redis with AOF, the fake Discord, `prbot serve` roles.

Every process is started here, by us, and ended by its own pid: SIGKILL for the chaos, SIGTERM
(then SIGKILL after a grace period) when the soak is over.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import redis.asyncio as aioredis

from bot.settings import Settings
from tests.loopback import free_port

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
STOP_GRACE_S = 10.0
START_ATTEMPTS = 10


class ExitedError(RuntimeError):
    """A process we started exited on its own."""


async def until(check: Any, timeout_s: float, what: str, every_s: float = 0.05) -> None:
    """Await `check()` until it is truthy; raise TimeoutError naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout_s:.0f} s")
        await asyncio.sleep(every_s)


def spawn(command: list[str], **options: Any) -> subprocess.Popen[bytes]:
    """Start a child process (fork and exec take milliseconds: fine inside the event loop)."""
    return subprocess.Popen(command, **options)


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM a process we started, SIGKILL it if it lingers, and reap it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()


def peak_rss_kib(pid: int) -> int:
    """Return the peak resident set size (VmHWM) of a live process in KiB, 0 if it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


class RedisServer:
    """A private redis-server with append-only persistence, so a restart keeps every write."""

    def __init__(self, workdir: Path, appendfsync: str = "always") -> None:
        self.appendfsync = appendfsync  # "always": a SIGKILL loses no acknowledged write
        self.dir = workdir / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        """Return the redis:// URL of database 0."""
        return f"redis://{HOST}:{self.port}/0"

    async def start(self) -> None:
        """Start the server and wait until it answers PING."""
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        command = [binary, "--bind", HOST, "--port", str(self.port), "--dir", str(self.dir)]
        command += ["--appendonly", "yes", "--appendfsync", self.appendfsync, "--save", ""]
        command += ["--logfile", str(self.dir / "redis.log")]
        self.proc = spawn(command, stdout=subprocess.DEVNULL)
        await until(self.answers, 20, "redis-server start")

    async def answers(self) -> bool:
        """Tell whether the server answers PING."""
        client = aioredis.Redis.from_url(self.url, socket_connect_timeout=1)
        try:
            return bool(await client.ping())
        except (OSError, aioredis.RedisError):
            return False
        finally:
            await client.aclose()

    async def restart(self, down_s: float = 0.5) -> None:
        """SIGKILL the server (acknowledged writes are in the AOF already) and start it again."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        await asyncio.sleep(down_s)
        await self.start()
        self.restarts += 1

    def stop(self) -> None:
        """Stop the server."""
        if self.proc is not None:
            stop_process(self.proc)


@dataclass(frozen=True)
class FakeInfo:
    """What the fake Discord process printed: where it is and what it seeded."""

    api_base: str
    token: str
    text_channel_id: int
    forum_channel_id: int
    state_url: str
    base_url: str


class FakeDiscordProcess:
    """`python -m tests.fakes.discord_server` with latency and faults."""

    def __init__(
        self, latency_ms: float, p429: float, p5xx: float, seed: int, workdir: Path
    ) -> None:
        self.log_path = workdir / "fake-discord.log"  # a killed worker's cut requests log here
        self.args = ["--latency-ms", str(latency_ms), "--p429", str(p429), "--p5xx", str(p5xx)]
        self.args += ["--seed", str(seed), "--port", str(free_port())]
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> FakeInfo:
        """Start the fake and return the ids it seeded."""
        command = [sys.executable, "-m", "tests.fakes.discord_server", *self.args]
        with self.log_path.open("ab") as log:
            self.proc = spawn(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log)
        assert self.proc.stdout is not None
        line = await asyncio.to_thread(self.proc.stdout.readline)
        data = json.loads(line)
        return FakeInfo(
            api_base=data["api_base"],
            token=data["token"],
            text_channel_id=int(data["text_channel_id"]),
            forum_channel_id=int(data["forum_channel_id"]),
            state_url=data["state_url"],
            base_url=data["state_url"].removesuffix("/_fake/state"),
        )

    def stop(self) -> None:
        """Stop the fake."""
        if self.proc is not None:
            stop_process(self.proc)
            if self.proc.stdout is not None:
                self.proc.stdout.close()


def prbot_environment(values: dict[str, str]) -> dict[str, str]:
    """Return this process's environment without prbot settings, plus `values`."""
    names = {f.alias for f in Settings.model_fields.values() if f.alias}
    return {k: v for k, v in os.environ.items() if k not in names} | values


@dataclass
class PrbotProcess:
    """One `prbot serve --role ROLE` process that can be killed and started again."""

    role: str
    env: dict[str, str]
    workdir: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    peak_kib: int = 0
    starts: int = 0
    failed_starts: int = 0
    log: IO[bytes] | None = None

    @property
    def base(self) -> str:
        """Return the process's HTTP base URL."""
        return f"http://{HOST}:{self.port}"

    async def start(self) -> None:
        """Start `prbot serve` and wait until it is ready, restarting it if it exits first."""
        # Like a container's restart policy: `prbot serve` exits with 1 when its Discord log-in
        # meets a 5xx or 429, and the fake Discord fails some requests on purpose.
        for _ in range(START_ATTEMPTS):
            self._spawn()
            try:
                await until(self.ready, 60, f"prbot serve --role {self.role} ready", every_s=0.1)
                return
            except ExitedError:
                self.failed_starts += 1
                await asyncio.sleep(0.5)
        raise RuntimeError(f"prbot serve --role {self.role} never started:\n{self.log_tail()}")

    def _spawn(self) -> None:
        # From an empty folder, so no stray .env is read.
        command = [sys.executable, "-m", "bot", "serve", "--role", self.role]
        command += ["--host", HOST, "--port", str(self.port)]
        if self.log is None:
            self.log = (self.workdir / f"prbot-{self.role}-{self.port}.log").open("ab")
        self.proc = spawn(command, cwd=self.workdir, env=self.env, stdout=self.log, stderr=self.log)
        self.starts += 1

    async def ready(self) -> bool:
        """Tell whether /readyz answers 200 (raise ExitedError if the process died)."""
        if self.proc is not None and self.proc.poll() is not None:
            raise ExitedError(f"prbot serve --role {self.role} exited with {self.proc.returncode}")
        try:
            async with httpx.AsyncClient(base_url=self.base, timeout=2) as client:
                return (await client.get("/readyz")).status_code == 200
        except httpx.HTTPError:
            return False

    def log_tail(self, lines: int = 15) -> str:
        """Return the last lines the process logged."""
        if self.log is None:
            return ""
        self.log.flush()
        text = Path(self.log.name).read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def sample(self) -> None:
        """Remember the process's peak RSS so far."""
        if self.proc is not None:
            self.peak_kib = max(self.peak_kib, peak_rss_kib(self.proc.pid))

    def kill(self) -> None:
        """SIGKILL the process (after sampling its peak RSS)."""
        if self.proc is not None:
            self.sample()
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        """Stop the process gracefully, sampling its peak RSS first."""
        if self.proc is not None:
            self.sample()
            stop_process(self.proc)
        if self.log is not None:
            self.log.close()
