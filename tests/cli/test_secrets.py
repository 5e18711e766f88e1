"""Every command redacts secrets in its logs (the Redis password too), by construction: `main`
configures logging before it dispatches; settings errors never print the offending values."""

from __future__ import annotations

import argparse
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import _parser, main
from bot.ops.logs import secrets_in
from bot.settings import Settings, secret_names
from tests.cli import clean_env, prbot

WEBHOOK_SECRET = "whsec-for-cli-tests-0123456789"
TOKEN = "MTIz.discord-token-for-cli-tests.abcdef"
REDIS_PASSWORD = "redis-password-for-cli-tests"
SECRETS = (WEBHOOK_SECRET, TOKEN, REDIS_PASSWORD)


def subcommands() -> set[str]:
    """Return every subcommand the parser knows."""
    [sub] = [a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return set(sub.choices)


def commands(taken_port: int) -> dict[str, list[str]]:
    """Return, for each subcommand, arguments that run it for real and end it quickly."""
    return {
        "serve": ["serve", "--dry-run", "--port", str(taken_port)],  # the bind fails: exit 1
        "dev": ["dev", "--port", str(taken_port)],  # the bind fails: exit 1
        "replay": ["replay", "/no/such/fixture.json"],
        "events": ["events"],  # Redis does not answer: exit 1
        "runs": ["runs"],
        "check": ["check"],
        "backfill": ["backfill"],  # no GitHub access configured: exit 2
        "commands": ["commands", "sync"],  # Discord does not answer: exit 1
        "users": ["users"],  # Redis does not answer: exit 1
    }


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Put the root logger back as it was: `main` replaces its handlers."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def taken_port() -> Iterator[int]:
    """Yield a loopback port something already listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_the_table_below_covers_every_command() -> None:
    assert set(commands(0)) == subcommands()


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(commands(0)))
def test_every_command_redacts_its_secrets(
    name: str,
    tmp_path: Path,
    taken_port: int,
    capsys: pytest.CaptureFixture[str],
    root_logging: None,
) -> None:
    env = tmp_path / ".env"
    env.write_text(
        f"GITHUB_WEBHOOK_SECRET={WEBHOOK_SECRET}\nDISCORD_TOKEN={TOKEN}\n"
        f"REDIS_URL=redis://:{REDIS_PASSWORD}@127.0.0.1:1/0\n"
        "DISCORD_API_BASE=http://127.0.0.1:1/api/v10\nDISCORD_CHANNEL_ID=1\n"
    )
    code = main(["--env-file", str(env), *commands(taken_port)[name]])
    assert code in (1, 2)  # each ends on purpose: nothing answers, nothing is found
    # Whatever the command or a library logs from now on in this process passes the redaction.
    logging.getLogger("bot.anything").error("leaked %s %s", WEBHOOK_SECRET, TOKEN)
    logging.getLogger("redis").warning("url redis://:%s@redis:6379/0", REDIS_PASSWORD)
    out, err = capsys.readouterr()
    for secret in SECRETS:
        assert secret not in out + err, name
    assert "leaked *** ***" in err and "redis://:***@redis" in err


@pytest.mark.parametrize("name", sorted(commands(0)))
def test_a_value_in_the_wrong_setting_is_never_printed(name: str, taken_port: int) -> None:
    env = clean_env(DISCORD_CHANNEL_ID=TOKEN, REPO_CHANNELS=f"{WEBHOOK_SECRET}=1")
    done = prbot(env, *commands(taken_port)[name])
    assert done.returncode == (1 if name == "check" else 2), done.stderr
    shown = done.stdout + done.stderr
    assert "DISCORD_CHANNEL_ID" in shown and "REPO_CHANNELS" in shown
    assert TOKEN not in shown and WEBHOOK_SECRET not in shown
    assert "input_value" not in shown


def test_every_secret_setting_is_redacted() -> None:
    names = secret_names()
    assert set(names) >= {"GITHUB_WEBHOOK_SECRET", "DISCORD_TOKEN"}
    secret_fields = [f for f in Settings.model_fields.values() if "SecretStr" in str(f.annotation)]
    assert len(names) == len(secret_fields)
    values = dict.fromkeys(names, "s3cret-value") | {"REDIS_URL": "rediss://u:pw-9@h:6380/0"}
    assert set(secrets_in(values)) == {"s3cret-value", "pw-9"}


def test_each_line_of_a_multi_line_key_is_redacted() -> None:
    body = "MIIEowIBAAKCAQEAvZ3kz8l0q1mB6mJzq0bS8yWq"
    pem = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\nshort\n-----END RSA PRIVATE KEY-----"
    found = secrets_in({"GITHUB_APP_PRIVATE_KEY": pem})
    assert pem in found and body in found and "short" not in found
