"""The dashboard's pages under /ui: runs, a run, events, an event, a PR, and their actions."""

from __future__ import annotations

from collections.abc import Awaitable
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from bot.web.access import SESSION_COOKIE, SESSION_TTL_MS
from bot.web.actions import Actions, Outcome
from bot.web.api import parse_pr
from bot.web.board import Board
from bot.web.pages import HEADERS, Pages
from bot.web.templating import STATIC
from bot.web.views import STATUSES, PrOut

STATIC_FILES = {"dashboard.css": "text/css", "dashboard.js": "text/javascript"}


def pr_path(pr: str) -> str:
    """Return the dashboard path of `owner/repo#N`."""
    repo, _, number = pr.partition("#")
    return f"/ui/prs/{repo}/{number}"


def _done(outcome: Outcome, back: str) -> RedirectResponse:
    if outcome.run_id:
        target = f"/ui/runs/{quote(outcome.run_id)}"
    elif outcome.event_id:
        target = f"/ui/events/{quote(outcome.event_id)}"
    else:
        target = back
    return RedirectResponse(f"{target}?notice={quote(outcome.message)}", 303)


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def ui_router(board: Board, pages: Pages, actions: Actions) -> APIRouter:
    """Return the /ui routes, each behind the gate."""
    router = APIRouter(prefix="/ui", include_in_schema=False)
    _add_runs(router, board, pages)
    _add_events(router, board, pages)
    _add_actions(router, pages, actions)
    _add_login(router, pages)
    return router


def _failed(pages: Pages, request: Request, outcome: Outcome) -> HTMLResponse:
    return pages.page(request, "error.html", outcome.status, message=outcome.message)


def _add_runs(router: APIRouter, board: Board, pages: Pages) -> None:
    guarded = [Depends(pages.guard(api=False))]
    functions = sorted(fn.id for fn in board.registry)

    @router.get("", dependencies=guarded)
    @router.get("/runs", dependencies=guarded)
    async def runs_page(
        request: Request,
        status: str | None = None,
        function: str | None = None,
        pr: str | None = None,
        cursor: int = Query(0, ge=0),
        notice: str | None = None,
    ) -> HTMLResponse:
        status = status if status in STATUSES else None
        function, pr = _blank(function), parse_pr(pr)
        page = await board.runs(50, status, function, pr, cursor)
        filters = {"status": status or "", "function": function or "", "pr": pr or ""}
        return pages.page(
            request, "runs.html", page=page, filters=filters, statuses=STATUSES,
            functions=functions, cursor=cursor, notice=notice, pr_path=pr_path,
        )  # fmt: skip

    @router.get("/runs/{run_id}", dependencies=guarded)
    async def run_page(request: Request, run_id: str, notice: str | None = None) -> HTMLResponse:
        run = await board.run(run_id)
        if run is None:
            return _failed(pages, request, Outcome(404, f"run {run_id} is unknown or expired"))
        return pages.page(request, "run.html", run=run, notice=notice, pr_path=pr_path)

    @router.get("/prs/{owner}/{repo}/{number}", dependencies=guarded)
    async def pr_page(request: Request, owner: str, repo: str, number: int) -> HTMLResponse:
        view: PrOut = await board.pr(f"{owner}/{repo}#{number}")
        return pages.page(request, "pr.html", view=view, pr_path=pr_path)

    @router.get("/static/{name}", dependencies=guarded)
    async def static(name: str) -> FileResponse:
        if name not in STATIC_FILES:
            raise HTTPException(404, "Not Found")
        return FileResponse(STATIC / name, media_type=STATIC_FILES[name], headers=HEADERS)


def _add_events(router: APIRouter, board: Board, pages: Pages) -> None:
    guarded = [Depends(pages.guard(api=False))]

    @router.get("/events", dependencies=guarded)
    async def events_page(request: Request, cursor: int = Query(0, ge=0)) -> HTMLResponse:
        page = await board.events(50, cursor)
        return pages.page(request, "events.html", page=page, cursor=cursor, pr_path=pr_path)

    @router.get("/events/{event_id}", dependencies=guarded)
    async def event_page(
        request: Request, event_id: str, notice: str | None = None
    ) -> HTMLResponse:
        detail = await board.event(event_id)
        if detail is None:
            return _failed(pages, request, Outcome(404, f"event {event_id} is unknown or expired"))
        return pages.page(request, "event.html", detail=detail, event=detail.summary,
                          notice=notice, pr_path=pr_path)  # fmt: skip


def _add_actions(router: APIRouter, pages: Pages, actions: Actions) -> None:
    guarded = [Depends(pages.guard(api=False))]

    async def act(request: Request, outcome: Awaitable[Outcome], back: str) -> Response:
        done = await outcome
        return _done(done, back) if done.status == 303 else _failed(pages, request, done)

    @router.post("/runs/{run_id}/rerun", dependencies=guarded)
    async def rerun(request: Request, run_id: str) -> Response:
        await pages.form(request)
        return await act(request, actions.rerun(run_id), f"/ui/runs/{quote(run_id)}")

    @router.post("/runs/{run_id}/cancel", dependencies=guarded)
    async def cancel(request: Request, run_id: str) -> Response:
        await pages.form(request)
        return await act(request, actions.cancel(run_id), f"/ui/runs/{quote(run_id)}")

    @router.post("/events/{event_id}/replay", dependencies=guarded)
    async def replay(request: Request, event_id: str) -> Response:
        await pages.form(request)
        return await act(request, actions.replay(event_id), f"/ui/events/{quote(event_id)}")


def _add_login(router: APIRouter, pages: Pages) -> None:
    async def visible(request: Request) -> None:
        if pages.verdict(request) == "hidden":
            raise HTTPException(404, "Not Found")

    def _next(value: str | None) -> str:
        # Only back into the dashboard: never an open redirect.
        return value if value and value.startswith("/ui") and not value.startswith("//") else "/ui"

    @router.get("/login", dependencies=[Depends(visible)])
    async def login_page(request: Request, next: str | None = None) -> HTMLResponse:
        return pages.page(request, "login.html", next=_next(next), error=None)

    @router.post("/login", dependencies=[Depends(visible)])
    async def login(request: Request) -> Response:
        form = await pages.form(request)
        target = _next(form.get("next"))
        if not pages.gate.token_matches(form.get("token")):
            return pages.page(request, "login.html", 401, next=target,
                              error="That is not the dashboard token.")  # fmt: skip
        response = RedirectResponse(target, 303)
        session = pages.gate.session(pages.clock.now_ms())
        pages.set_cookie(request, response, SESSION_COOKIE, session, SESSION_TTL_MS // 1000)
        return response

    @router.post("/logout", dependencies=[Depends(visible)])
    async def logout(request: Request) -> Response:
        await pages.form(request)
        response = RedirectResponse("/ui/login", 303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
