"""Runtime settings: the store (Redis or embedded), workers, shutdown and logging."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from bot.settings.values import Group, OptionalStr


class RuntimeSettings(Group):
    """Where runs are kept and how the workers run them."""

    redis_url: OptionalStr = Field(None, alias="REDIS_URL")
    redis_key_prefix: str = Field("prbot", alias="REDIS_KEY_PREFIX", pattern=r"^[A-Za-z0-9_.:-]+$")
    worker_concurrency: int = Field(32, alias="WORKER_CONCURRENCY", ge=1, le=1024)
    run_visibility_timeout_s: float = Field(4.0, alias="RUN_VISIBILITY_TIMEOUT_S", gt=0)
    shutdown_timeout_s: float = Field(25.0, alias="SHUTDOWN_TIMEOUT_S", ge=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", alias="LOG_LEVEL"
    )
    log_format: Literal["text", "json"] = Field("text", alias="LOG_FORMAT")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        # Checked here so that a bad URL is reported by name, never echoed in a traceback.
        if value is None:
            return None
        try:
            scheme, port = urlsplit(value).scheme, urlsplit(value).port
        except ValueError:
            raise ValueError("is not a URL: redis://[:PASSWORD@]HOST[:PORT][/DB]") from None
        if scheme not in ("redis", "rediss", "unix") or (port is not None and port < 1):
            raise ValueError("must be redis://, rediss:// or unix:// followed by where it is")
        return value

    @property
    def embedded(self) -> bool:
        """True when no Redis is configured and the in-process store is used."""
        return self.redis_url is None
