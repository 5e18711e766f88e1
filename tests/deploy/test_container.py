"""The container files, read as a reviewer would (there is no Docker engine here), and the image's
command run directly: it starts, answers /healthz, passes its own HEALTHCHECK, stops on SIGTERM."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import Settings
from tests.deploy import ROOT
from tests.fakes.discord_server import FakeDiscord
from tests.loopback import free_port, wait_until_up
from tests.web import DISCORD_TOKEN, SECRET

PORT = "8000"


def instructions(path: Path = ROOT / "Dockerfile") -> list[tuple[str, str]]:
    """Return the Dockerfile's (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    """Return the instructions of the last stage (the image that runs)."""
    steps = instructions()
    last = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last:]


def exec_form(args: str) -> list[str]:
    """Parse a JSON exec-form argument list."""
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value


def one(stage: list[tuple[str, str]], word: str) -> str:
    """Return the arguments of the only `word` instruction of a stage."""
    [args] = [rest for w, rest in stage if w == word]
    return args


def healthcheck_command() -> list[str]:
    """Return the HEALTHCHECK's exec-form command."""
    args = one(final_stage(), "HEALTHCHECK")
    return exec_form(args[args.index("CMD") + len("CMD") :].strip())


def test_the_image_runs_prbot_serve_as_a_user_on_a_slim_python() -> None:
    stage = final_stage()
    assert stage[0] == ("FROM", "python:3.11-slim")
    assert one(stage, "USER").split(":")[0] not in ("root", "0")
    assert one(stage, "EXPOSE") == PORT
    command = exec_form(one(stage, "ENTRYPOINT")) + exec_form(one(stage, "CMD"))
    assert command == ["prbot", "serve", "--host", "0.0.0.0", "--port", PORT]
    health = healthcheck_command()
    assert f"http://127.0.0.1:{PORT}/healthz" in " ".join(health)


def test_dependencies_are_installed_from_the_lock_before_the_code_is_copied() -> None:
    steps = instructions()
    copies = [i for i, (w, rest) in enumerate(steps) if w == "COPY" and "--from" not in rest]
    first_code = min(i for i in copies if steps[i][1].split()[0] in ("bot", "functions"))
    assert steps[copies[0]] == ("COPY", "requirements.lock ./")  # the lock alone, first
    runs = [(i, rest.split()) for i, (w, rest) in enumerate(steps) if w == "RUN" and "pip" in rest]
    [(locked_at, locked)] = [(i, words) for i, words in runs if "requirements.lock" in words]
    assert locked_at < first_code
    assert locked[:2] == ["pip", "install"] and {"--no-deps", "--require-hashes"} <= set(locked)
    [project] = [words for i, words in runs if i > first_code]
    assert project[:2] == ["pip", "install"] and "--no-deps" in project and "." in project
    assert "--no-build-isolation" in project  # built with the locked setuptools, not the newest
    assert project[-2:] == ["pip", "check"]  # and the lock is complete, or the build fails


def test_the_build_context_holds_only_what_the_image_needs() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"  # everything out (.env, .venv, .git, tests, fixtures)...
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {"requirements.lock", "pyproject.toml", "README.md", "bot", "functions"}
    sources = [
        rest.split()[0]
        for w, rest in instructions()
        if w == "COPY" and not rest.startswith("--from")
    ]
    assert {s.rstrip("/") for s in sources} <= allowed


def compose() -> dict[str, Any]:
    """Return docker-compose.yml parsed."""
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_compose_runs_prbot_beside_a_private_persistent_redis() -> None:
    services = compose()["services"]
    assert set(services) == {"prbot", "worker", "gateway", "redis"}
    redis = services["redis"]
    assert "ports" not in redis and "expose" not in redis  # not published to the host
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command and "--maxmemory-policy noeviction" in command
    assert redis["volumes"] == ["redis-data:/data"]
    assert compose()["volumes"] == {"redis-data": None}
    assert redis["restart"] == "unless-stopped" and "healthcheck" in redis


def seconds(value: str) -> float:
    """Parse a compose duration such as `40s`."""
    assert value.endswith("s")
    return float(value[:-1])


@pytest.mark.parametrize("name", ["prbot", "worker", "gateway"])
def test_compose_prbot_services_read_env_and_reach_redis(name: str) -> None:
    service = compose()["services"][name]
    assert service["env_file"] == ".env"
    assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert service["depends_on"] == {"redis": {"condition": "service_healthy"}}
    assert service["restart"] == "unless-stopped"
    default_timeout = Settings.model_fields["shutdown_timeout_s"].default
    assert seconds(service["stop_grace_period"]) > default_timeout
    known = set((ROOT / ".env.example").read_text(encoding="utf-8").split())
    for variable in service["environment"]:
        assert any(line.startswith(f"{variable}=") for line in known)


def test_compose_shows_a_worker_profile_for_scaling() -> None:
    services = compose()["services"]
    assert services["prbot"]["ports"] == [f"{PORT}:{PORT}"]
    worker = services["worker"]
    assert worker["profiles"] == ["scale"] and "ports" not in worker
    assert worker["command"][-2:] == ["--role", "worker"]
    assert worker["image"] == services["prbot"]["image"]


def test_compose_has_one_gateway_for_split_deployments() -> None:
    gateway = compose()["services"]["gateway"]
    assert gateway["command"][-2:] == ["--role", "gateway"] and "ports" not in gateway
    assert gateway["profiles"] == ["split"]  # the prbot service (--role all) runs one already
    assert gateway["deploy"]["replicas"] == 1  # one connection: never scale it


def image_command(port: int) -> list[str]:
    """Return the image's ENTRYPOINT + CMD with this venv's `prbot` and `port`."""
    stage = final_stage()
    command = exec_form(one(stage, "ENTRYPOINT")) + exec_form(one(stage, "CMD"))
    command[0] = str(Path(sys.executable).parent / command[0])
    return [str(port) if arg == PORT else arg for arg in command]


def start_image_command(
    port: int, cwd: Path, redis_url: str, discord: FakeDiscord
) -> subprocess.Popen[str]:
    """Start the image's command as a process on `port`, on the test Redis and fake Discord."""
    clean = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME")}
    env = {**clean, "GITHUB_WEBHOOK_SECRET": SECRET, "REDIS_URL": redis_url}
    env |= {"DISCORD_TOKEN": DISCORD_TOKEN, "DISCORD_API_BASE": discord.api_base}
    env["REDIS_KEY_PREFIX"] = "test-image"
    command = image_command(port)
    return subprocess.Popen(command, cwd=cwd, env=env, stderr=subprocess.PIPE, text=True)


def run_healthcheck(port: int) -> int:
    """Run the HEALTHCHECK command against `port`; return its exit code."""
    probe = [arg.replace(f":{PORT}/", f":{port}/") for arg in healthcheck_command()]
    probe[0] = sys.executable if probe[0] == "python" else probe[0]
    return subprocess.run(probe, timeout=10).returncode


@pytest.mark.slow
async def test_the_image_command_starts_answers_healthz_and_passes_its_healthcheck(
    redis_url: str, tmp_path: Path
) -> None:
    port = free_port()
    async with FakeDiscord(token=DISCORD_TOKEN) as discord:
        process = start_image_command(port, tmp_path, redis_url, discord)
        try:
            await wait_until_up(f"http://127.0.0.1:{port}")
            assert run_healthcheck(port) == 0
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert f"on 0.0.0.0:{port}" in stderr and SECRET not in stderr and DISCORD_TOKEN not in stderr
    assert run_healthcheck(port) != 0  # and it tells when nothing answers
