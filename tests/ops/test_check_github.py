"""`prbot check`'s GitHub rows against the fake GitHub: token, fine-grained token, App, hook."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.ops.check import format_table, run_checks, secrets_in
from bot.ops.check.verdicts import Check
from bot.runtime import Store
from tests.github.world import Door, door_world

SECRET = "webhook-secret-for-github-check-0123"


@pytest.fixture
async def door(real_store: Store) -> AsyncIterator[Door]:
    """Yield a seeded fake GitHub (and a flushed Redis)."""
    async with door_world(real_store) as world:
        yield world


def base_env(door: Door, **extra: str) -> dict[str, str]:
    """Return a configuration with no Discord token, on the test Redis."""
    return {"GITHUB_WEBHOOK_SECRET": SECRET, "DISCORD_CHANNEL_ID": "123",
            "GITHUB_API_BASE": door.fake.api_base, **extra}  # fmt: skip


async def github_rows(env: dict[str, str]) -> dict[str, Check]:
    """Run the checks and return the GitHub rows by name."""
    report, _ = await run_checks(env)
    return {c.name: c for c in report.checks if "GitHub" in c.name or "App" in c.name}


def verdicts(found: dict[str, Check]) -> dict[str, str]:
    """Return name -> status."""
    return {name: c.status for name, c in found.items()}


async def test_without_api_access_the_features_are_off(door: Door) -> None:
    found = await github_rows(base_env(door))
    assert verdicts(found) == {"GitHub API": "skip"}
    assert "everything that calls GitHub's API is off" in found["GitHub API"].detail


async def test_a_classic_token_with_repo_scope(door: Door) -> None:
    found = await github_rows(base_env(door, GITHUB_TOKEN=door.world.token.value))
    assert verdicts(found) == {
        "GitHub credentials": "ok",
        "GitHub login": "ok",
        "GitHub permissions": "ok",
        "GitHub hook": "warn",
    }
    assert found["GitHub login"].detail == f"logged in as octocat (classic) at {door.fake.api_base}"
    assert found["GitHub permissions"].detail == "scopes repo"
    assert "GITHUB_HOOK is not set" in found["GitHub hook"].detail


async def test_a_classic_token_without_scopes_and_an_org_hook(door: Door) -> None:
    hook = door.fake.add_org_hook("acme", "http://127.0.0.1:9/", SECRET)
    bare = door.fake.add_token("eve", scopes=())
    env = base_env(door, GITHUB_TOKEN=bare.value, GITHUB_HOOK=f"orgs/acme/hooks/{hook.id}")
    found = await github_rows(env)
    assert found["GitHub permissions"].status == "fail"
    assert found["GitHub permissions"].detail == "missing scope repo, admin:org_hook"
    row = found[f"GitHub hook orgs/acme/hooks/{hook.id}"]
    assert row.status == "fail" and "GitHub 404 on GET /orgs/{org}/hooks/{hook_id}" in row.detail


async def test_a_fine_grained_token_and_a_readable_repo_hook(door: Door) -> None:
    hook = door.fake.add_repo_hook(door.world.repo, "http://127.0.0.1:9/", SECRET)
    token = door.fake.add_token(
        "fina", permissions={"pull_requests": "write", "repository_hooks": "write"}
    )
    path = f"repos/acme/widgets/hooks/{hook.id}"
    found = await github_rows(base_env(door, GITHUB_TOKEN=token.value, GITHUB_HOOK=path))
    assert found["GitHub login"].detail.startswith("logged in as fina (fine-grained)")
    permissions = found["GitHub permissions"]
    assert (
        permissions.status == "warn" and "GitHub does not show what it may do" in permissions.detail
    )
    assert permissions.detail.endswith("; and repository_hooks write")
    assert found[f"GitHub hook {path}"].status == "ok"


async def test_a_github_app_its_installations_and_hook(door: Door, redis_url: str) -> None:
    door.fake.set_app_hook(door.world.app, "http://127.0.0.1:9/", SECRET)
    door.fake.add_repo("other/elsewhere")
    env = door.app_env(
        **base_env(door),
        REPO_CHANNELS="acme/widgets=1,other/elsewhere=2,acme/*=3",
        GITHUB_TOKEN=door.world.token.value,
        REDIS_URL=redis_url,
        REDIS_KEY_PREFIX="test",
    )
    found = await github_rows(env)
    assert verdicts(found) == {
        "GitHub credentials": "ok",
        "GitHub login": "ok",
        "GitHub permissions": "ok",
        "GitHub App events": "warn",
        "App installed on acme/widgets": "ok",
        "App installed on other/elsewhere": "fail",
        "GitHub hook app/hook": "ok",
    }
    assert found["GitHub login"].detail.startswith("logged in as App prbot at")
    assert "status, workflow_run" in found["GitHub App events"].detail
    assert "GitHub 404" in found["App installed on other/elsewhere"].detail
    report, _ = await run_checks(env)
    assert any(c.name == "GITHUB_TOKEN" and c.status == "warn" for c in report.checks)
    table = format_table(report.checks, secrets_in(env))
    assert door.world.token.value not in table
    # Only read: no installation token or lookup was kept in Redis.
    assert await door.store.redis.keys("*") == []


async def test_an_app_short_of_permissions(door: Door) -> None:
    door.world.app.permissions["issues"] = "read"
    door.world.installation.permissions.pop("checks")
    env = door.app_env(**base_env(door), REPO_CHANNELS="acme/widgets=1")
    found = await github_rows(env)
    assert found["GitHub permissions"].detail == "the App lacks issues: write (has read)"
    assert found["App installed on acme/widgets"].detail == (
        f"installation {door.world.installation.id} lacks checks: read (none)"
    )


async def test_a_wrong_token_fails_the_login(door: Door) -> None:
    found = await github_rows(base_env(door, GITHUB_TOKEN="ghp_wrong0123456789"))
    assert found["GitHub login"].status == "fail"
    assert found["GitHub login"].detail == "GitHub 401 on GET /user: Bad credentials"
    assert "GitHub permissions" not in found


async def test_a_bad_private_key_fails_the_settings_without_echoing_it(door: Door) -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nnot-really-a-key\n-----END RSA PRIVATE KEY-----"
    env = {**base_env(door), "GITHUB_APP_ID": "1", "GITHUB_APP_PRIVATE_KEY": pem}
    report, _ = await run_checks(env)
    [row] = report.checks
    assert row.status == "fail" and "GITHUB_APP_PRIVATE_KEY" in row.detail
    assert "not-really-a-key" not in row.detail
