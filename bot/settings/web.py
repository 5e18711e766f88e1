"""Web settings: the webhook receiver (its secret, what it accepts and keeps) and the dashboard."""

from __future__ import annotations

from pydantic import Field

from bot.settings.values import Group, Secret


class WebSettings(Group):
    """What the HTTP service accepts, keeps, and who may read the dashboard."""

    github_webhook_secret: Secret = Field(None, alias="GITHUB_WEBHOOK_SECRET")
    # Opens /ui and /api on a non-loopback bind (Bearer header or the login form).
    dashboard_token: Secret = Field(None, alias="DASHBOARD_TOKEN")

    allow_unsigned_webhooks: bool = Field(False, alias="ALLOW_UNSIGNED_WEBHOOKS")
    delivery_retention_days: float = Field(7.0, alias="DELIVERY_RETENTION_DAYS", gt=0)
    delivery_max: int = Field(10_000, alias="DELIVERY_MAX", ge=1)
    # Bodies are read whole before the signature can be checked: bound them across requests.
    webhook_bodies_max_mb: int = Field(100, alias="WEBHOOK_BODIES_MAX_MB", ge=1)
