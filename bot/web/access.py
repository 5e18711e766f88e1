"""Who may see the dashboard, and proof that a POST came from its own pages.

Open on a loopback bind. On any other bind only with DASHBOARD_TOKEN, sent as a Bearer header or
exchanged at the login form for a signed session cookie; with no token configured there, /ui and
/api answer 404 as if they did not exist. Every POST carries a CSRF token: an HMAC of a random
cookie (HttpOnly, SameSite=Strict) that a page from another site can neither read nor forge.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from fastapi import FastAPI, Request

SESSION_COOKIE = "prbot_session"
CSRF_COOKIE = "prbot_csrf"
CSRF_FIELD = "csrf"
SESSION_TTL_MS = 12 * 3_600_000
Verdict = Literal["open", "login", "hidden"]


def is_loopback(host: str | None) -> bool:
    """Tell whether a bind address only takes connections from this machine."""
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def set_bind_host(app: FastAPI, host: str) -> None:
    """Tell the dashboard which address the server listens on (it decides who may look)."""
    app.state.bind_host = host


def bind_host(app: FastAPI) -> str | None:
    """Return the address the server listens on; None (treated as public) when not told."""
    return getattr(app.state, "bind_host", None)


def _sign(key: bytes, purpose: str, value: str) -> str:
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def _bearer(authorization: str | None) -> str | None:
    scheme, _, value = (authorization or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


@dataclass(frozen=True)
class Gate:
    """Decides access and signs sessions and CSRF tokens with one key."""

    token: str | None
    key: bytes

    @classmethod
    def build(cls, token: str | None) -> Gate:
        """Derive the key from the token (shared by replicas), or pick one for this process."""
        key = (
            hashlib.sha256(b"prbot-dashboard\x00" + token.encode()).digest()
            if token
            else secrets.token_bytes(32)
        )
        return cls(token, key)

    def token_matches(self, offered: str | None) -> bool:
        """Tell whether `offered` is the dashboard token (in constant time)."""
        if not self.token or offered is None:
            return False
        return hmac.compare_digest(offered.encode(), self.token.encode())

    def verdict(
        self, host: str | None, authorization: str | None, session: str | None, now_ms: int
    ) -> Verdict:
        """Return open (show it), login (ask for the token) or hidden (answer 404)."""
        if is_loopback(host):
            return "open"
        if not self.token:
            return "hidden"
        if self.token_matches(_bearer(authorization)) or self.session_valid(session, now_ms):
            return "open"
        return "login"

    def session(self, now_ms: int) -> str:
        """Return a new session cookie value: when it was issued, signed."""
        return f"{now_ms}.{_sign(self.key, 'session', str(now_ms))}"

    def session_valid(self, value: str | None, now_ms: int) -> bool:
        """Tell whether a session cookie is ours and younger than SESSION_TTL_MS."""
        issued, _, signature = (value or "").partition(".")
        if not issued.isdigit() or not 0 <= now_ms - int(issued) < SESSION_TTL_MS:
            return False
        return hmac.compare_digest(signature, _sign(self.key, "session", issued))

    def csrf_token(self, cookie: str) -> str:
        """Return the form token that goes with a CSRF cookie."""
        return _sign(self.key, "csrf", cookie)

    def csrf_valid(self, cookie: str | None, token: str | None) -> bool:
        """Tell whether a posted form token matches the CSRF cookie sent with it."""
        if not cookie or not token:
            return False
        return hmac.compare_digest(token, self.csrf_token(cookie))


def same_origin(request: Request) -> bool:
    """Tell whether the browser says the request comes from our own pages (when it says)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    # Compare hosts only: behind a TLS proxy the scheme seen here is not the browser's.
    return urlsplit(origin).netloc == request.headers.get("host", "")


def new_csrf_cookie() -> str:
    """Return a fresh random CSRF cookie value."""
    return secrets.token_urlsafe(32)
