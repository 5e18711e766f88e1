"""Shared set-up for the fake GitHub's tests: a seeded fake and real githubkit clients for it."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from githubkit import (
    AppAuthStrategy,
    BaseAuthStrategy,
    GitHub,
    TokenAuthStrategy,
    UnauthAuthStrategy,
)
from githubkit.cache import MemCacheStrategy

from tests.fakes.github_auth import generate_app_key
from tests.fakes.github_models import App, Installation, PullRequest, Repo, Token
from tests.fakes.github_server import FakeGitHub

OWNER, NAME = "acme", "widgets"


def rows(parsed: object) -> list[Any]:
    """Return a parsed list answer.

    githubkit annotates list answers as ``list[...]`` inside classes that also define a method
    named ``list``, so mypy cannot see them as lists.
    """
    assert isinstance(parsed, list)
    return parsed


def sign_jwt(claims: Mapping[str, Any], private_pem: str) -> str:
    """Sign an RS256 JWT by hand with cryptography (any claim types, unlike PyJWT)."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    header = _b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    signing_input = f"{header}.{_b64url(json.dumps(dict(claims)).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64url(signature)}"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@cache
def app_key() -> tuple[str, bytes]:
    """Return one RSA key pair for the test Apps (private PEM, public PEM); made once."""
    return generate_app_key()


def client(fake: FakeGitHub, auth: BaseAuthStrategy | None = None) -> GitHub[BaseAuthStrategy]:
    """Return a githubkit client for the fake: no retries, no HTTP cache, its own token cache.

    githubkit's default token cache is one per process, keyed by App and installation id:
    shared, it would hand one test's installation token to the next test's fake. Outside a
    context manager githubkit opens an HTTP client per request, and building its TLS context
    costs ~20 ms each time even for plain HTTP: the fake speaks plain HTTP, so skip it.
    """
    return GitHub(
        auth or UnauthAuthStrategy(),
        base_url=fake.api_base,
        auto_retry=False,
        http_cache=False,
        cache_strategy=MemCacheStrategy(),
        ssl_verify=False,
    )


@dataclass
class GitHubWorld:
    """A started fake with one repository, one open PR, a personal token and an installed App."""

    fake: FakeGitHub
    repo: Repo
    pr: PullRequest
    token: Token
    app: App
    installation: Installation
    private_key: str

    def as_user(self) -> GitHub[BaseAuthStrategy]:
        """Return a client using the personal token."""
        return client(self.fake, TokenAuthStrategy(self.token.value))

    def as_app(self) -> GitHub[BaseAuthStrategy]:
        """Return a client authenticating as the App (JWT)."""
        return client(self.fake, AppAuthStrategy(self.app.id, self.private_key))

    def as_installation(self) -> GitHub[BaseAuthStrategy]:
        """Return a client using installation tokens of the App."""
        strategy = AppAuthStrategy(self.app.id, self.private_key)
        return client(self.fake, strategy.as_installation(self.installation.id))


def seed(fake: FakeGitHub) -> GitHubWorld:
    """Seed the standard world on a started fake."""
    private, public = app_key()
    repo = fake.add_repo(f"{OWNER}/{NAME}")
    pr = fake.add_pull(repo, title="Add a widget", requested_reviewers=["alice"], labels=["ui"])
    app = fake.add_app("prbot", public)
    return GitHubWorld(
        fake=fake,
        repo=repo,
        pr=pr,
        token=fake.add_token("octocat"),
        app=app,
        installation=fake.install(app, OWNER),
        private_key=private,
    )
