"""The plumbing of the dashboard's pages: the gate as a dependency, rendering, forms, headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl, quote

from fastapi import HTTPException, Request, Response
from fastapi.responses import HTMLResponse

from bot.runtime import Clock
from bot.web.access import (
    CSRF_COOKIE,
    CSRF_FIELD,
    SESSION_COOKIE,
    Gate,
    Verdict,
    bind_host,
    new_csrf_cookie,
    same_origin,
)
from bot.web.templating import render

FORM_MAX_BYTES = 4_096
# No inline script or style anywhere: the pages load only their own files.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" would make POSTs say `Origin: null`
    "Cache-Control": "no-store",
}


class Pages:
    """Renders pages with a CSRF token and checks who may see them and what they post."""

    def __init__(self, gate: Gate, clock: Clock) -> None:
        self.gate = gate
        self.clock = clock

    def verdict(self, request: Request) -> Verdict:
        """Return what the gate says about this request."""
        return self.gate.verdict(
            bind_host(request.app),
            request.headers.get("authorization"),
            request.cookies.get(SESSION_COOKIE),
            self.clock.now_ms(),
        )

    def guard(self, api: bool) -> Callable[[Request], Awaitable[None]]:
        """Return a dependency: 404 when hidden; else 401 (API) or the login page (UI)."""

        async def check(request: Request) -> None:
            verdict = self.verdict(request)
            if verdict == "hidden":
                raise HTTPException(404, "Not Found")
            if verdict == "login" and api:
                raise HTTPException(401, "DASHBOARD_TOKEN required",
                                    headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
            if verdict == "login":
                target = quote(request.url.path + (f"?{request.url.query}" if request.url.query
                                                   else ""), safe="")  # fmt: skip
                raise HTTPException(303, "login required",
                                    headers={"Location": f"/ui/login?next={target}"})  # fmt: skip

        return check

    def page(
        self, request: Request, template: str, status: int = 200, **context: object
    ) -> HTMLResponse:
        """Render `template`, giving it the CSRF token (and setting the cookie when new)."""
        cookie = request.cookies.get(CSRF_COOKIE)
        fresh = not cookie or len(cookie) > 100
        if fresh:
            cookie = new_csrf_cookie()
        assert cookie is not None
        html = render(
            template,
            csrf=self.gate.csrf_token(cookie),
            csrf_field=CSRF_FIELD,
            path=request.url.path,
            now_ms=self.clock.now_ms(),
            signed_in=SESSION_COOKIE in request.cookies,
            **context,
        )
        response = HTMLResponse(html, status, headers=HEADERS)
        if fresh:
            self.set_cookie(request, response, CSRF_COOKIE, cookie, None)
        return response

    @staticmethod
    def set_cookie(
        request: Request, response: Response, name: str, value: str, max_age: int | None
    ) -> None:
        """Set an HttpOnly, SameSite=Strict cookie (Secure when the page came over HTTPS)."""
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )

    async def form(self, request: Request) -> dict[str, str]:
        """Read a posted form; 403 unless it carries our CSRF token and comes from our pages."""
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > FORM_MAX_BYTES:
                raise HTTPException(413, "form too large")
        fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        cookie = request.cookies.get(CSRF_COOKIE)
        if not same_origin(request) or not self.gate.csrf_valid(cookie, fields.get(CSRF_FIELD)):
            raise HTTPException(403, "CSRF check failed: reload the page and try again")
        return fields
