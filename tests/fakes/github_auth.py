"""Who is calling the fake GitHub, and what they may do.

Personal tokens (classic with scopes, fine-grained with permissions), App JWTs (RS256, verified
with the App's public key) and installation tokens. Sources:
https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-json-web-token-jwt-for-a-github-app
https://docs.github.com/rest/authentication/permissions-required-for-github-apps
https://docs.github.com/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.fakes.github_models import LEVELS, App, Installation, Level, Repo, Token, User
from tests.fakes.github_rules import (
    GitHubError,
    bad_credentials,
    jwt_error,
    not_accessible,
    not_found,
    requires_authentication,
)

CallerKind = Literal["anonymous", "token", "installation", "jwt"]
JWT_MAX_LIFETIME_S = 600
UNDECODABLE = "A JSON web token could not be decoded"
EXP_PAST = (
    "'Expiration time' claim ('exp') must be a numeric value representing the future time "
    "at which the assertion expires"
)
EXP_TOO_FAR = "'Expiration time' claim ('exp') is too far in the future"
IAT_BAD = (
    "'Issued at' claim ('iat') must be an Integer representing the time that the assertion "
    "was issued"
)
ISS_BAD = "'Issuer' claim ('iss') must be an Integer"
# Classic scopes that reach repository webhooks (``repo`` covers them too).
HOOK_SCOPES = {"read": {"read:repo_hook", "write:repo_hook", "admin:repo_hook", "repo"}}
HOOK_SCOPES["write"] = HOOK_SCOPES["read"] - {"read:repo_hook"}
ORG_HOOK_SCOPES = {"admin:org_hook"}


@dataclass(frozen=True)
class Caller:
    """The authenticated side of one request."""

    kind: CallerKind
    user: User | None = None
    token: Token | None = None
    app: App | None = None
    installation: Installation | None = None

    @property
    def rate_key(self) -> str:
        """The primary rate limit bucket: per user, per installation, per App or per address."""
        if self.installation is not None:
            return f"installation:{self.installation.id}"
        if self.app is not None:
            return f"app:{self.app.id}"
        if self.user is not None:
            return f"user:{self.user.id}"
        return "ip:127.0.0.1"

    def rate_subject(self) -> str:
        """Name the bucket as GitHub's primary-limit message does."""
        if self.installation is not None:
            return f"installation ID {self.installation.id}"
        if self.user is not None:
            return f"user ID {self.user.id}"
        if self.app is not None:
            return f"app ID {self.app.id}"
        return "127.0.0.1"


ANONYMOUS = Caller("anonymous")


def authenticate(
    header: str | None,
    *,
    tokens: Mapping[str, Token],
    apps: Mapping[int, App],
    installations: Mapping[int, Installation],
    now: float,
    jwt_now: float,
) -> Caller:
    """Resolve an ``Authorization`` header (``Bearer X`` or ``token X``) to a caller.

    Token expiry follows ``now`` (the fake clock); JWT claims are judged at ``jwt_now``.
    """
    if not header:
        return ANONYMOUS
    scheme, _, value = header.strip().partition(" ")
    value = value.strip()
    if scheme.lower() not in ("bearer", "token") or not value:
        raise bad_credentials()
    if value.count(".") == 2 and value.startswith("eyJ"):
        return Caller("jwt", app=verify_app_jwt(value, apps, jwt_now))
    token = tokens.get(value)
    if token is None or token.revoked:
        raise bad_credentials()
    if token.expires_at is not None and now >= token.expires_at:
        raise bad_credentials()
    if token.kind != "installation" or token.installation_id is None:
        return Caller("token", user=token.user, token=token)
    installation = installations[token.installation_id]
    return Caller(
        "installation",
        user=token.user,
        token=token,
        app=apps[installation.app_id],
        installation=installation,
    )


def verify_app_jwt(token: str, apps: Mapping[int, App], now: float) -> App:
    """Check an App JWT's signature and claims against the fake clock; return its App."""
    header_b64, claims_b64, signature_b64 = token.split(".")
    try:
        header = json.loads(_b64url(header_b64))
        claims = json.loads(_b64url(claims_b64))
        signature = _b64url(signature_b64)
    except (ValueError, binascii.Error):
        raise jwt_error(UNDECODABLE) from None
    if not isinstance(header, dict) or header.get("alg") != "RS256" or not isinstance(claims, dict):
        raise jwt_error(UNDECODABLE)
    app = _issuer(claims.get("iss"), apps)
    key = serialization.load_pem_public_key(app.public_key_pem)
    if not isinstance(key, rsa.RSAPublicKey):
        raise jwt_error(UNDECODABLE)
    signed = f"{header_b64}.{claims_b64}".encode()
    try:
        key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise jwt_error(UNDECODABLE) from None
    _check_times(claims, now)
    return app


def _issuer(iss: Any, apps: Mapping[int, App]) -> App:
    """Find the App named by ``iss``: its id (number or digits) or its client id."""
    by_client_id = {app.client_id: app for app in apps.values()}
    if isinstance(iss, str) and iss in by_client_id:
        return by_client_id[iss]
    if isinstance(iss, bool) or not (
        isinstance(iss, int) or (isinstance(iss, str) and iss.isdigit())
    ):
        raise jwt_error(ISS_BAD)
    app = apps.get(int(iss))
    if app is None:
        # GitHub cannot pick a key to check the signature with: the token is undecodable to it.
        raise jwt_error(UNDECODABLE)
    return app


def _check_times(claims: Mapping[str, Any], now: float) -> None:
    iat, exp = _number(claims.get("iat")), _number(claims.get("exp"))
    if iat is None or iat > now:
        raise jwt_error(IAT_BAD)
    if exp is None or exp <= now:
        raise jwt_error(EXP_PAST)
    if exp - now > JWT_MAX_LIFETIME_S:
        raise jwt_error(EXP_TOO_FAR)


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


# -- authorization ------------------------------------------------------------------------------


def require_jwt(caller: Caller) -> App:
    """Return the App of a JWT caller; anything else is refused as GitHub does on App routes."""
    if caller.kind == "jwt" and caller.app is not None:
        return caller.app
    if caller.kind == "anonymous":
        raise requires_authentication()
    raise jwt_error(UNDECODABLE)


def authorize(
    caller: Caller,
    repo: Repo,
    permissions: tuple[str, ...],
    level: Level,
    installations: Mapping[int, Installation],
) -> None:
    """Raise GitHub's answer unless ``caller`` may use one of ``permissions`` at ``level``."""
    if caller.kind == "jwt":
        raise not_accessible("integration")
    if caller.token is None:
        if repo.private:
            raise not_found()
        if level != "read":
            raise requires_authentication()
        return
    if caller.token.kind == "classic":
        _authorize_classic(caller.token, repo, permissions, level)
        return
    kind = "integration" if caller.kind == "installation" else "token"
    if not _reaches(caller.token, repo, installations):
        if repo.private or caller.kind == "installation":
            raise not_found()
        raise not_accessible(kind)
    granted = max(LEVELS.get(caller.token.permissions.get(p, ""), 0) for p in permissions)
    if granted < LEVELS[level]:
        accepted = "; ".join(f"{p}={level}" for p in permissions)
        if level == "read" and repo.private:
            raise not_found()
        raise not_accessible(kind, {"X-Accepted-GitHub-Permissions": accepted})


def _reaches(token: Token, repo: Repo, installations: Mapping[int, Installation]) -> bool:
    if token.repository_ids is not None and repo.id not in token.repository_ids:
        return False
    if token.installation_id is None:
        return True
    inst = installations[token.installation_id]
    if inst.account.id != repo.owner.id:
        return False
    return inst.repository_ids is None or repo.id in inst.repository_ids


def _authorize_classic(
    token: Token, repo: Repo, permissions: tuple[str, ...], level: Level
) -> None:
    scopes = set(token.scopes)
    if "organization_hooks" in permissions:
        needed = ORG_HOOK_SCOPES
    elif "repository_hooks" in permissions:
        needed = HOOK_SCOPES["write" if level != "read" else "read"]
    elif repo.private:
        needed = {"repo"}
    elif level != "read":
        needed = {"repo", "public_repo"}
    else:
        return
    if not scopes & needed:
        # GitHub hides what a classic token's scopes do not reach behind a 404.
        error = not_found()
        error.headers["X-Accepted-OAuth-Scopes"] = ", ".join(sorted(needed))
        raise error


def check_requested_permissions(
    requested: Mapping[str, str], granted: Mapping[str, str]
) -> dict[str, str]:
    """Return the permissions for a new installation token (at most what was granted)."""
    if not requested:
        return dict(granted)
    for name, level in requested.items():
        if LEVELS.get(granted.get(name, ""), 0) < LEVELS.get(level, 99):
            raise GitHubError(
                422, "The permissions requested are not granted to this installation."
            )
    return dict(requested)


def generate_app_key() -> tuple[str, bytes]:
    """Return a new RSA key for a test App: the private PEM (for the client) and public PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public
