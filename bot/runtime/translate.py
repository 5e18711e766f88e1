"""Redis errors become the runtime's own at the store boundary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis.exceptions import RedisError

from bot.runtime.errors import StoreUnavailableError


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn redis-py errors into StoreUnavailableError at the adapter boundary."""
    try:
        yield
    except RedisError as exc:
        raise StoreUnavailableError(f"store unavailable: {type(exc).__name__}: {exc}") from exc
    except OSError as exc:
        raise StoreUnavailableError(f"store unavailable: {exc}") from exc
