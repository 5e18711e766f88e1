"""GitHub settings: a token or a complete App, a PEM that parses, the hook, backfill timing."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.github.connect import (
    NO_ACCESS,
    NO_HOOK,
    access_problem,
    backfill_hook,
    backfill_problem,
    credentials,
)
from bot.github.shapes import HookRef
from bot.settings import load_settings, parse_duration
from tests.fakes.github_world import app_key


def test_no_api_access_by_default() -> None:
    settings = load_settings({})
    assert credentials(settings) is None
    assert access_problem(settings) == NO_ACCESS == backfill_problem(settings)
    assert settings.github_api_base == "https://api.github.com"
    assert settings.backfill_interval_s == 300


def test_a_token_needs_a_hook_for_backfill() -> None:
    settings = load_settings({"GITHUB_TOKEN": "ghp_0123456789abcdef"})
    found = credentials(settings)
    assert found is not None and found.token == "ghp_0123456789abcdef" and not found.is_app
    assert "ghp_0123456789abcdef" not in repr(found) + repr(settings)
    assert backfill_problem(settings) == NO_HOOK
    hooked = load_settings({"GITHUB_TOKEN": "ghp_x1", "GITHUB_HOOK": "orgs/acme/hooks/12"})
    assert backfill_hook(hooked) == HookRef("orgs/acme/hooks/12")
    assert backfill_hook(hooked) is not None and backfill_hook(hooked).parts == ("acme", "12")  # type: ignore[union-attr]


def test_an_app_from_text_or_file_wins_over_a_token(tmp_path: Path) -> None:
    pem, _ = app_key()
    one_line = pem.strip().replace("\n", "\\n")  # how it often sits in an env file
    settings = load_settings(
        {"GITHUB_APP_ID": "42", "GITHUB_APP_PRIVATE_KEY": one_line, "GITHUB_TOKEN": "ghp_x1"}
    )
    found = credentials(settings)
    assert found is not None and found.is_app and found.private_key == pem.strip()
    assert backfill_hook(settings) == HookRef.app()
    key_file = tmp_path / "app.pem"
    key_file.write_text(pem)
    from_file = load_settings({"GITHUB_APP_ID": "42", "GITHUB_APP_PRIVATE_KEY_FILE": str(key_file)})
    assert from_file.app_private_key() == pem


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GITHUB_APP_ID": "42"}, "GITHUB_APP_ID needs GITHUB_APP_PRIVATE_KEY"),
        ({"GITHUB_APP_PRIVATE_KEY_FILE": "/x.pem"}, "needs GITHUB_APP_ID"),
        ({"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY": "-----BEGIN x"}, "not a PEM private key"),
        ({"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY_FILE": "/nope.pem"}, "cannot read"),
        ({"GITHUB_TOKEN": "changeme"}, "placeholder"),
        ({"GITHUB_HOOK": "repos/acme/hooks/1"}, "GITHUB_HOOK"),
        ({"BACKFILL_INTERVAL": "5 minutes"}, "duration like 90s"),
        ({"GITHUB_API_BASE": "api.github.com"}, "GITHUB_API_BASE"),
    ],
)
def test_incomplete_or_wrong_github_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message) as refused:
        load_settings(env)
    for name in ("GITHUB_TOKEN", "GITHUB_APP_PRIVATE_KEY"):
        if name in env:
            assert env[name] not in str(refused.value)  # a key or token is never echoed


def test_an_ec_key_is_not_an_app_key() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ValidationError, match="not an RSA private key"):
        load_settings({"GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY": pem.decode()})


def test_durations() -> None:
    assert [parse_duration(t) for t in ("90s", "30m", "2h", "3d", "1.5h")] == [
        90, 1800, 7200, 259200, 5400,
    ]  # fmt: skip
    assert load_settings({"BACKFILL_INTERVAL": "off"}).backfill_interval_s is None
    assert load_settings({"BACKFILL_INTERVAL": "0"}).backfill_interval_s is None
    assert load_settings({"BACKFILL_INTERVAL": "90s"}).backfill_interval_s == 90
    with pytest.raises(ValueError, match="3 days"):
        parse_duration("3 days")
