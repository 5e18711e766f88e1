"""Who sees the dashboard: open on loopback, DASHBOARD_TOKEN elsewhere, 404 without it; CSRF."""

from __future__ import annotations

import re

import httpx
import pytest

from bot.web.access import SESSION_TTL_MS, Gate, bind_host, is_loopback, set_bind_host
from tests.web.dashboard_harness import csrf_of, dashboard

TOKEN = "dashboard-token-for-tests-0123456789"
GUARDED = ["/ui", "/ui/runs", "/ui/events", "/ui/login", "/ui/static/dashboard.css", "/api/runs",
           "/api/events", "/api/runs/x", "/api/prs/o/r/1"]  # fmt: skip


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.3.2.1", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("0.0.0.0", False), ("::", False), ("10.0.0.5", False),
     ("example.org", False), (None, False)],
)  # fmt: skip
def test_loopback_binds(host: str | None, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_gate_decides_by_bind_token_and_session() -> None:
    now = 1_700_000_000_000
    gate, hidden = Gate.build(TOKEN), Gate.build(None)
    assert hidden.verdict("127.0.0.1", None, None, now) == "open"
    assert hidden.verdict("0.0.0.0", f"Bearer {TOKEN}", None, now) == "hidden"
    assert gate.verdict("0.0.0.0", None, None, now) == "login"
    assert gate.verdict("0.0.0.0", f"Bearer {TOKEN}", None, now) == "open"
    assert gate.verdict("0.0.0.0", f"bearer {TOKEN}", None, now) == "open"
    assert gate.verdict("0.0.0.0", f"Basic {TOKEN}", None, now) == "login"
    assert gate.verdict("0.0.0.0", f"Bearer {TOKEN}x", None, now) == "login"
    session = gate.session(now)
    assert gate.verdict("0.0.0.0", None, session, now + 1000) == "open"
    assert gate.verdict("0.0.0.0", None, session, now + SESSION_TTL_MS) == "login"  # expired
    assert gate.verdict("0.0.0.0", None, session[:-1] + "0", now) == "login"  # forged
    assert Gate.build(TOKEN + "2").verdict("0.0.0.0", None, session, now) == "login"
    # The key comes from the token, so every replica accepts the same sessions and forms.
    assert Gate.build(TOKEN).session_valid(session, now)
    assert Gate.build(TOKEN).csrf_valid("cookie", gate.csrf_token("cookie"))
    assert not gate.csrf_valid("cookie", gate.csrf_token("other"))
    assert not gate.csrf_valid(None, gate.csrf_token("cookie"))
    assert Gate.build(None).key != Gate.build(None).key  # no token: a key per process


async def test_open_on_loopback(redis_url: str) -> None:
    async with dashboard(redis_url) as (run, _):
        assert bind_host(run.service.app) == "127.0.0.1"
        async with httpx.AsyncClient(base_url=run.base) as client:
            for path in GUARDED:
                response = await client.get(path)
                expected = 404 if path == "/api/runs/x" else 200  # an unknown run, shown as such
                assert response.status_code == expected, path
        async with httpx.AsyncClient(base_url=run.base) as fresh:
            page = await fresh.get("/ui")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


async def test_hidden_on_a_public_bind_without_a_token(redis_url: str) -> None:
    async with dashboard(redis_url) as (run, _):
        set_bind_host(run.service.app, "0.0.0.0")
        async with httpx.AsyncClient(base_url=run.base) as client:
            for path in GUARDED:
                response = await client.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
                assert response.status_code == 404, path
            assert (await client.get("/healthz")).status_code == 200


async def test_a_public_bind_needs_the_token(redis_url: str) -> None:
    async with dashboard(redis_url, DASHBOARD_TOKEN=TOKEN) as (run, _):
        set_bind_host(run.service.app, "0.0.0.0")
        async with httpx.AsyncClient(base_url=run.base) as client:
            refused = await client.get("/api/runs")
            wrong = await client.get("/api/runs", headers={"Authorization": "Bearer nope"})
            right = await client.get("/api/runs", headers={"Authorization": f"Bearer {TOKEN}"})
            to_login = await client.get("/ui/events?cursor=0")
            assert (refused.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
            assert refused.headers["www-authenticate"] == "Bearer"
            assert to_login.status_code == 303
            assert to_login.headers["location"] == "/ui/login?next=%2Fui%2Fevents%3Fcursor%3D0"

            login = await client.get("/ui/login", params={"next": "/ui/events"})
            form = {"csrf": csrf_of(login.text), "next": "/ui/events", "token": "wrong"}
            bad = await client.post("/ui/login", data=form)
            assert bad.status_code == 401 and "not the dashboard token" in bad.text
            forged = await client.post("/ui/login", data=form | {"csrf": "0" * 64})
            assert forged.status_code == 403
            good = await client.post("/ui/login", data=form | {"token": TOKEN})
            assert good.status_code == 303 and good.headers["location"] == "/ui/events"
            session = good.headers["set-cookie"]
            assert re.search(r"prbot_session=\d+\.[0-9a-f]{64};", session)
            assert "HttpOnly" in session and "SameSite=strict" in session
            assert (await client.get("/ui/events")).status_code == 200
            assert (await client.get("/api/events")).status_code == 200

            out = await client.post("/ui/logout", data={"csrf": form["csrf"]})
            assert out.status_code == 303
            assert (await client.get("/ui/events")).status_code == 303


async def test_login_never_redirects_off_the_dashboard(redis_url: str) -> None:
    async with dashboard(redis_url, DASHBOARD_TOKEN=TOKEN) as (run, _):
        set_bind_host(run.service.app, "0.0.0.0")
        async with httpx.AsyncClient(base_url=run.base) as client:
            login = await client.get("/ui/login")
            for target in ("https://evil.example/", "//evil.example/ui", "/api/runs"):
                form = {"csrf": csrf_of(login.text), "next": target, "token": TOKEN}
                answer = await client.post("/ui/login", data=form)
                assert answer.headers["location"] == "/ui", target


async def test_posts_need_the_csrf_token_and_our_origin(redis_url: str) -> None:
    async with dashboard(redis_url) as (run, _), httpx.AsyncClient(base_url=run.base) as client:
        page = await client.get("/ui/login")  # any page with a form
        token = csrf_of(page.text)
        url = "/ui/events/nothing/replay"
        missing = await client.post(url, data={})
        wrong = await client.post(url, data={"csrf": "f" * 64})
        origin = await client.post(
            url, data={"csrf": token}, headers={"Origin": "https://evil.example"}
        )
        site = await client.post(
            url, data={"csrf": token}, headers={"Sec-Fetch-Site": "cross-site"}
        )
        stranger = httpx.AsyncClient(base_url=run.base)  # no CSRF cookie
        async with stranger:
            no_cookie = await stranger.post(url, data={"csrf": token})
        headers = {"Origin": run.base, "Sec-Fetch-Site": "same-origin"}
        ours = await client.post(url, data={"csrf": token}, headers=headers)
    codes = [r.status_code for r in (missing, wrong, origin, site, no_cookie)]
    assert codes == [403] * 5
    assert ours.status_code == 404 and "unknown or expired" in ours.text  # passed the check
