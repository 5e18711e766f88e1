"""wrk, the compiled HTTP load generator: install it, script a fresh delivery per request, run it.

A Python load generator saturates before a Python server does on a small machine, so the ingest
benchmark drives its targets with wrk (Debian package `wrk`, which embeds LuaJIT). The Lua
script sends the same signed body with a new `X-GitHub-Delivery` per request and prints wrk's
figures, and wrk's own CPU time, as one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MARK = "WRK-RESULT "
# wrk's request() runs once per request, in each wrk thread's own Lua state: `pre .. id .. post`
# is one allocation, so the generator stays cheap next to the servers it measures.
_SCRIPT = """
local pre, post, prefix = %(pre)s, %(post)s, %(prefix)s
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local n = 0
function request()
  n = n + 1
  return pre .. prefix .. tid .. "-" .. n .. post
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%(mark)s{"requests":%%d,"duration_us":%%d,"connect":%%d,"read":%%d,"write":%%d,'
    .. '"status":%%d,"timeout":%%d,"p50_us":%%d,"p99_us":%%d,"cpu_s":%%.3f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), os.clock()))
end
"""


def lua_string(data: bytes) -> str:
    """Return `data` as a Lua string literal (decimal escapes for anything but plain ASCII)."""
    plain = set(range(0x20, 0x7F)) - {ord('"'), ord("\\")}
    return '"' + "".join(chr(b) if b in plain else f"\\{b:03d}" for b in data) + '"'


def lua_script(
    host: str, path: str, headers: Mapping[str, str], id_header: str, prefix: str, body: bytes
) -> str:
    """Return a wrk script that POSTs `body` with `headers` and a fresh `id_header` each time.

    Ids are `prefix` + wrk thread + counter, so they are unique within a run and, with a
    fresh `prefix`, across runs.
    """
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() != id_header.lower()]
    pre = "\r\n".join([*lines, f"{id_header}: "]).encode()
    post = b"\r\n\r\n" + body
    return _SCRIPT % {
        "pre": lua_string(pre),
        "post": lua_string(post),
        "prefix": lua_string(prefix.encode()),
        "mark": MARK,
    }


@dataclass(frozen=True)
class WrkResult:
    """What wrk measured in one run: answers, errors, latency and its own CPU time."""

    requests: int
    duration_s: float
    errors: int  # connect, read, write and timeout errors, plus answers with status >= 400
    p50_ms: float
    p99_ms: float
    cpu_s: float

    @property
    def throughput(self) -> float:
        """Return answered requests per second."""
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def cpu_share(self) -> float:
        """Return wrk's CPU time over the run's length: 1.0 is one core kept busy."""
        return self.cpu_s / self.duration_s if self.duration_s else 0.0


def parse_result(stdout: str) -> WrkResult:
    """Return the figures from the script's line in wrk's output."""
    for line in stdout.splitlines():
        if line.startswith(MARK):
            raw = json.loads(line[len(MARK) :])
            errors = sum(raw[k] for k in ("connect", "read", "write", "status", "timeout"))
            return WrkResult(
                raw["requests"],
                raw["duration_us"] / 1e6,
                errors,
                raw["p50_us"] / 1000,
                raw["p99_us"] / 1000,
                raw["cpu_s"],
            )
    raise RuntimeError(f"wrk printed no result line:\n{stdout[-2000:]}")


def ensure_wrk() -> str:
    """Return the path of `wrk`, installing the Debian package first when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise RuntimeError("wrk is not installed: run `apt-get install -y wrk` (Debian/Ubuntu)")
    print("installing wrk: apt-get install -y wrk", file=sys.stderr)
    if _apt_get("install", "-y", "wrk") != 0:  # the package lists may be missing or stale
        _apt_get("update")
        if _apt_get("install", "-y", "wrk") != 0:
            raise RuntimeError("apt-get install -y wrk failed")
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("apt-get installed wrk but it is not on PATH")
    return found


def _apt_get(*args: str) -> int:
    done = subprocess.run(["apt-get", "-q", *args], capture_output=True, check=False)
    return done.returncode


def wrk_version(wrk: str) -> str:
    """Return wrk's version, e.g. `4.1.0-3+b2`."""
    out = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False).stdout
    words = out.split()
    version = words[1] if len(words) > 1 else "?"
    return version.split("/")[-1]


async def run_wrk(
    wrk: str, url: str, script: Path, connections: int, seconds: int, threads: int = 1
) -> WrkResult:
    """Run wrk against `url` with `script` for whole `seconds` and return what it measured."""
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s"]
    process = await asyncio.create_subprocess_exec(
        *command, "-s", str(script), url, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    stdout, _ = await process.communicate()
    text = stdout.decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited {process.returncode}:\n{text[-2000:]}")
    return parse_result(text)
