"""Mount the dashboard (/ui pages and the /api they share their reads with) on the app."""

from __future__ import annotations

from fastapi import FastAPI

from bot.runtime import Runtime
from bot.settings import Settings
from bot.web.access import Gate
from bot.web.actions import Actions
from bot.web.api import api_router
from bot.web.board import Board
from bot.web.pages import Pages
from bot.web.ui import ui_router


def mount_dashboard(app: FastAPI, settings: Settings, runtime: Runtime) -> None:
    """Add /ui and /api; who may see them depends on the bind host (see `access`)."""
    token = settings.dashboard_token.get_secret_value() if settings.dashboard_token else None
    pages = Pages(Gate.build(token), runtime.clock)
    board = Board(runtime.store, runtime.registry, runtime.clock)
    app.include_router(ui_router(board, pages, Actions(runtime)))
    app.include_router(api_router(board, pages))
