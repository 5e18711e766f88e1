"""Durable event-driven functions on Redis: events, functions, memoized steps, workers."""

from bot.runtime.clock import Clock, ManualClock, SystemClock
from bot.runtime.context import Context, current_run_id
from bot.runtime.errors import (
    NonRetriableError,
    PrbotError,
    RetriableError,
    RetryAfterError,
    StoreUnavailableError,
)
from bot.runtime.events import CRON_TICK, FUNCTION_CANCELLED, FUNCTION_FAILED, Event
from bot.runtime.flow import Cancel, Cron, Debounce, Throttle
from bot.runtime.functions import Function, Registry, Trigger, function, run_id_for
from bot.runtime.observer import Observer
from bot.runtime.ops import cancel_run, rerun
from bot.runtime.options import RuntimeOptions
from bot.runtime.planner import SendResult
from bot.runtime.runtime import Runtime
from bot.runtime.steps import Step, nonce_for
from bot.runtime.store import Limits, Store
from bot.runtime.worker import Worker

__all__ = [
    "CRON_TICK",
    "FUNCTION_CANCELLED",
    "FUNCTION_FAILED",
    "Cancel",
    "Clock",
    "Context",
    "Cron",
    "Debounce",
    "Event",
    "Function",
    "Limits",
    "ManualClock",
    "NonRetriableError",
    "Observer",
    "PrbotError",
    "Registry",
    "RetriableError",
    "RetryAfterError",
    "Runtime",
    "RuntimeOptions",
    "SendResult",
    "Step",
    "Store",
    "StoreUnavailableError",
    "SystemClock",
    "Throttle",
    "Trigger",
    "Worker",
    "cancel_run",
    "current_run_id",
    "function",
    "nonce_for",
    "rerun",
    "run_id_for",
]
