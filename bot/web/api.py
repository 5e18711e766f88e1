"""The dashboard's JSON API under /api: the same reads the pages show, for scripts."""

from __future__ import annotations

import re
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query

from bot.web.board import MAX_LIMIT, Board
from bot.web.pages import Pages
from bot.web.views import EventOut, EventPage, PrOut, RunDetail, RunPage

Status = Literal[
    "queued", "running", "sleeping", "waiting", "retrying", "completed", "failed", "cancelled"
]
_PR = re.compile(r"^([\w.-]+/[\w.-]+)(?:#|/)(\d+)$")


def parse_pr(value: str | None) -> str | None:
    """Return `owner/repo#N` from `owner/repo#N` or `owner/repo/N`; 422 when it is neither."""
    if value is None or not value.strip():
        return None
    match = _PR.match(value.strip())
    if match is None:
        raise HTTPException(422, "pr: expected owner/repo#N (URL-encode # as %23) or owner/repo/N")
    return f"{match.group(1)}#{match.group(2)}"


def api_router(board: Board, pages: Pages) -> APIRouter:
    """Return the /api routes, behind the gate (Bearer DASHBOARD_TOKEN off loopback)."""
    router = APIRouter(prefix="/api", tags=["dashboard"], dependencies=[Depends(pages.guard(True))])

    @router.get("/events", response_model=EventPage, summary="Recorded events, newest first")
    async def events(
        limit: int = Query(50, ge=1, le=MAX_LIMIT), cursor: int = Query(0, ge=0)
    ) -> EventPage:
        return await board.events(limit, cursor)

    @router.get("/events/{event_id}", response_model=EventOut, summary="One recorded event")
    async def event(event_id: str) -> EventOut:
        detail = await board.event(event_id)
        if detail is None:
            raise HTTPException(404, f"event {event_id} is unknown or expired")
        return detail.summary

    @router.get("/runs", response_model=RunPage, summary="Runs, newest first, filtered")
    async def runs(
        limit: int = Query(50, ge=1, le=MAX_LIMIT),
        status: Status | None = None,
        function: str | None = None,
        pr: str | None = Query(None, description="owner/repo#N"),
        cursor: int = Query(0, ge=0, description="`next` of the previous page"),
    ) -> RunPage:
        return await board.runs(limit, status, function or None, parse_pr(pr), cursor)

    @router.get("/runs/{run_id}", response_model=RunDetail, summary="One run with its steps")
    async def run(run_id: str) -> RunDetail:
        detail = await board.run(run_id)
        if detail is None:
            raise HTTPException(404, f"run {run_id} is unknown or expired")
        return detail

    @router.get("/prs/{owner}/{repo}/{number}", response_model=PrOut, summary="One PR's runs")
    async def pr(owner: str, repo: str, number: int) -> PrOut:
        return await board.pr(f"{owner}/{repo}#{number}")

    return router
