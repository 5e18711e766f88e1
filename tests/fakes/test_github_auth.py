"""The fake GitHub's credentials, driven by real githubkit over real HTTP (nothing mocked)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from githubkit import TokenAuthStrategy
from githubkit.exception import RequestFailed
from githubkit_schemas.latest.models import Integration

from tests.fakes.discord_clock import FakeClock
from tests.fakes.github_auth import (
    EXP_PAST,
    EXP_TOO_FAR,
    ISS_BAD,
    UNDECODABLE,
    generate_app_key,
    verify_app_jwt,
)
from tests.fakes.github_server import FakeGitHub
from tests.fakes.github_state import GitHubState
from tests.fakes.github_world import NAME, OWNER, GitHubWorld, app_key, client, seed, sign_jwt


@pytest.fixture
async def world() -> AsyncIterator[GitHubWorld]:
    """Yield the standard seeded world on a started fake."""
    async with FakeGitHub() as fake:
        yield seed(fake)


def default_claims(world: GitHubWorld) -> dict[str, Any]:
    """Return the claims githubkit would sign now (wall time)."""
    now = int(time.time())
    return {"iss": world.app.id, "iat": now - 60, "exp": now + 540}


def app_jwt(world: GitHubWorld, *, key: str | None = None, iss: object = None) -> str:
    """Sign an App JWT by hand, optionally with another key or issuer."""
    claims = default_claims(world) | ({} if iss is None else {"iss": iss})
    return sign_jwt(claims, key or world.private_key)


async def get_app_with(world: GitHubWorld, token: str) -> RequestFailed:
    """Call ``GET /app`` with ``Authorization: Bearer <token>`` and return the refusal."""
    headers = {"Authorization": f"Bearer {token}"}
    github = client(world.fake)
    with pytest.raises(RequestFailed) as refused:
        await github.arequest("GET", "/app", headers=headers)
    return refused.value


async def test_personal_token_is_its_user(world: GitHubWorld) -> None:
    github = world.as_user()  # githubkit's namespaces hold their client weakly: keep it
    response = await github.rest.users.async_get_authenticated()
    assert response.parsed_data.login == "octocat"
    assert response.headers["x-oauth-scopes"] == "repo"
    assert world.fake.requests.count("GET", "/user", 200, auth="token") == 1


async def test_wrong_token_is_401_bad_credentials(world: GitHubWorld) -> None:
    github = client(world.fake, TokenAuthStrategy("ghp_not-a-real-token"))
    with pytest.raises(RequestFailed) as refused:
        await github.rest.users.async_get_authenticated()
    assert refused.value.response.status_code == 401
    assert refused.value.response.json()["message"] == "Bad credentials"
    assert world.fake.requests.count(status=401, auth="invalid") == 1


async def test_app_jwt_reads_the_app_and_the_repo_installation(world: GitHubWorld) -> None:
    github = world.as_app()
    app = (await github.rest.apps.async_get_authenticated()).parsed_data
    assert app is not None
    assert (app.id, app.slug) == (world.app.id, "prbot")
    assert app.permissions.issues == "write"
    installation = await github.rest.apps.async_get_repo_installation(OWNER, NAME)
    assert installation.parsed_data.id == world.installation.id
    assert world.fake.requests.count(auth="jwt") == 2


async def test_installation_token_comments_as_the_bot(world: GitHubWorld) -> None:
    github = world.as_installation()
    made = await github.rest.issues.async_create_comment(OWNER, NAME, world.pr.number, body="hi")
    comment = made.parsed_data
    assert comment.user is not None and comment.user.login == "prbot[bot]"
    assert comment.user.type == "Bot"
    assert isinstance(comment.performed_via_github_app, Integration)
    assert comment.performed_via_github_app.slug == "prbot"
    # One token exchange with the JWT, then the comment with the token it gave.
    assert (
        world.fake.requests.count(
            "POST", "/app/installations/{installation_id}/access_tokens", 201, auth="jwt"
        )
        == 1
    )
    assert world.fake.requests.count("POST", auth="installation") == 1


async def test_installation_token_lasts_an_hour_on_the_fake_clock(world: GitHubWorld) -> None:
    github = world.as_installation()
    await github.rest.pulls.async_get(OWNER, NAME, world.pr.number)
    token = next(t for t in world.fake.state.tokens.values() if t.kind == "installation")
    assert token.expires_at == pytest.approx(world.fake.now() + 3600, abs=2)
    world.fake.advance(3601)
    # githubkit caches the token by wall time, so it still sends it: GitHub says 401.
    with pytest.raises(RequestFailed) as refused:
        await github.rest.pulls.async_get(OWNER, NAME, world.pr.number)
    assert refused.value.response.status_code == 401
    fresh = world.as_installation()
    assert (await fresh.rest.pulls.async_get(OWNER, NAME, world.pr.number)).status_code == 200


async def test_installation_token_cannot_get_user(world: GitHubWorld) -> None:
    github = world.as_installation()
    with pytest.raises(RequestFailed) as refused:
        await github.rest.users.async_get_authenticated()
    assert refused.value.response.status_code == 403
    assert refused.value.response.json()["message"] == "Resource not accessible by integration"


async def test_githubkit_jwt_expires_when_the_fake_clock_moves() -> None:
    clock = FakeClock()
    async with FakeGitHub(clock=clock, jwt_clock=clock.now) as fake:
        await _expire_jwt(seed(fake))


async def test_jwts_follow_wall_time_by_default(world: GitHubWorld) -> None:
    world.fake.advance(7200)
    # githubkit signs with the machine's clock: App auth still works after the fake jumps.
    github = world.as_installation()
    assert (await github.rest.pulls.async_get(OWNER, NAME, 1)).status_code == 200


async def _expire_jwt(world: GitHubWorld) -> None:
    github = world.as_app()
    await github.rest.apps.async_get_authenticated()
    world.fake.advance(600)
    with pytest.raises(RequestFailed) as refused:
        await github.rest.apps.async_get_authenticated()
    assert refused.value.response.status_code == 401
    assert refused.value.response.json()["message"] == EXP_PAST


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"exp": "soon"}, EXP_PAST),
        ({"iat": -120, "exp": -60}, EXP_PAST),
        ({"exp": 660}, EXP_TOO_FAR),
        ({"iat": 120}, "'Issued at' claim"),
        ({"iss": "prbot"}, ISS_BAD),
        ({"iss": 999_999}, UNDECODABLE),
    ],
)
async def test_bad_jwt_claims_are_401(
    world: GitHubWorld, claims: dict[str, Any], message: str
) -> None:
    now = int(time.time())
    shifted = {k: now + v if isinstance(v, int) and k != "iss" else v for k, v in claims.items()}
    refused = await get_app_with(
        world, sign_jwt(default_claims(world) | shifted, world.private_key)
    )
    assert refused.response.status_code == 401
    assert refused.response.json()["message"].startswith(message)


async def test_jwt_of_another_key_or_issuer_is_undecodable(world: GitHubWorld) -> None:
    other_private, other_public = generate_app_key()
    other = world.fake.add_app("other", other_public)
    # Signed with a key GitHub does not hold for this App; and our key naming another App.
    for token in (app_jwt(world, key=other_private), app_jwt(world, iss=other.id)):
        refused = await get_app_with(world, token)
        assert (refused.response.status_code, refused.response.json()["message"]) == (
            401,
            UNDECODABLE,
        )


async def test_iss_may_be_a_number_or_the_client_id(world: GitHubWorld) -> None:
    github = client(world.fake)
    for iss in (world.app.id, world.app.client_id):
        headers = {"Authorization": f"Bearer {app_jwt(world, iss=iss)}"}
        assert (await github.arequest("GET", "/app", headers=headers)).json()["slug"] == "prbot"


async def test_jwt_is_only_for_app_routes(world: GitHubWorld) -> None:
    headers = {"Authorization": f"Bearer {app_jwt(world)}"}
    github = client(world.fake)
    with pytest.raises(RequestFailed) as refused:
        await github.arequest("GET", f"/repos/{OWNER}/{NAME}/pulls/1", headers=headers)
    assert refused.value.response.status_code == 403
    # And a personal token on an App route is not a JWT.
    user = world.as_user()
    with pytest.raises(RequestFailed) as refused:
        await user.rest.apps.async_get_authenticated()
    assert refused.value.response.status_code == 401
    assert refused.value.response.json()["message"] == UNDECODABLE


async def test_requested_permissions_must_be_granted(world: GitHubWorld) -> None:
    github = world.as_app()
    narrowed = await github.rest.apps.async_create_installation_access_token(
        world.installation.id, permissions={"issues": "read"}
    )
    assert narrowed.json()["permissions"] == {"issues": "read"}
    with pytest.raises(RequestFailed) as refused:
        await github.rest.apps.async_create_installation_access_token(
            world.installation.id, permissions={"administration": "write"}
        )
    assert refused.value.response.status_code == 422
    # The read-only token cannot comment.
    reader = client(world.fake, TokenAuthStrategy(narrowed.parsed_data.token))
    with pytest.raises(RequestFailed) as refused:
        await reader.rest.issues.async_create_comment(OWNER, NAME, 1, body="no")
    assert refused.value.response.status_code == 403
    assert "issues=write" in refused.value.response.headers["x-accepted-github-permissions"]


async def test_scopes_and_permissions_decide_access(world: GitHubWorld) -> None:
    fake = world.fake
    secret = fake.add_repo(f"{OWNER}/secret", private=True)
    fake.add_pull(secret)
    no_scope = client(fake, TokenAuthStrategy(fake.add_token("eve", scopes=()).value))
    with pytest.raises(RequestFailed) as refused:
        await no_scope.rest.pulls.async_get(OWNER, "secret", 1)
    assert refused.value.response.status_code == 404
    assert refused.value.response.headers["x-accepted-oauth-scopes"] == "repo"
    # Public repositories need no scope to read, but public_repo or repo to write.
    assert (await no_scope.rest.pulls.async_get(OWNER, NAME, 1)).status_code == 200
    with pytest.raises(RequestFailed):
        await no_scope.rest.issues.async_create_comment(OWNER, NAME, 1, body="x")
    reader = fake.add_token("rita", permissions={"pull_requests": "read"})
    fine = client(fake, TokenAuthStrategy(reader.value))
    with pytest.raises(RequestFailed) as refused:
        await fine.rest.issues.async_create_comment(OWNER, NAME, 1, body="x")
    assert refused.value.response.json()["message"] == (
        "Resource not accessible by personal access token"
    )


async def test_installation_sees_only_its_repositories() -> None:
    async with FakeGitHub() as fake:
        private, public = app_key()
        chosen = fake.add_repo("acme/chosen", private=True)
        fake.add_pull(fake.add_repo("acme/other", private=True))
        fake.add_pull(chosen)
        app = fake.add_app("prbot", public)
        installation = fake.install(app, "acme", repositories=[chosen])
        world = GitHubWorld(
            fake,
            chosen,
            fake.state.pull(chosen, 1),
            fake.add_token("o"),
            app,
            installation,
            private,
        )
        github = world.as_installation()
        assert (await github.rest.pulls.async_get("acme", "chosen", 1)).status_code == 200
        with pytest.raises(RequestFailed) as refused:
            await github.rest.pulls.async_get("acme", "other", 1)
        assert refused.value.response.status_code == 404


def test_jwt_check_is_pure_and_follows_the_clock() -> None:
    private, public = app_key()
    clock = FakeClock(start=1_700_000_000.0)
    state = GitHubState(clock)
    app = state.add_app("prbot", public)
    now = int(time.time())
    token = sign_jwt({"iss": app.id, "iat": now - 60, "exp": now + 540}, private)
    # The fake clock is in 2023; a token made now is issued in its future.
    with pytest.raises(Exception, match="Issued at"):
        verify_app_jwt(token, state.apps, clock.now())
    assert verify_app_jwt(token, state.apps, now) is app


async def test_tokens_narrowed_to_repositories() -> None:
    async with FakeGitHub() as fake:
        world = seed(fake)
        other = fake.add_repo(f"{OWNER}/other", private=True)
        fake.add_pull(other)
        fake.add_repo("elsewhere/thing")
        github = world.as_app()
        apps = github.rest.apps
        narrowed = await apps.async_create_installation_access_token(
            world.installation.id, repositories=[NAME]
        )
        assert narrowed.json()["repository_selection"] == "selected"
        token = client(fake, TokenAuthStrategy(narrowed.parsed_data.token))
        assert (await token.rest.pulls.async_get(OWNER, NAME, 1)).status_code == 200
        with pytest.raises(RequestFailed) as hidden:
            await token.rest.pulls.async_get(OWNER, "other", 1)
        assert hidden.value.response.status_code == 404
        with pytest.raises(RequestFailed) as refused:
            await apps.async_create_installation_access_token(
                world.installation.id, repositories=["thing"]
            )
        assert refused.value.response.status_code == 422
        world.installation.suspended = True
        with pytest.raises(RequestFailed) as suspended:
            await apps.async_create_installation_access_token(world.installation.id)
        assert suspended.value.response.status_code == 403
