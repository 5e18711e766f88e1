"""One settings object, built from a mapping: the environment plus `.env`, read at entry.

`Settings` is assembled from one group per concern: `discord`, `github`, `threads`, `features`,
`runtime` (the store, workers, logging) and `web` (receiver and dashboard); `values` turns texts
into values.
"""

from bot.settings.loading import (
    Settings,
    explain,
    load_settings,
    read_environment,
    secret_names,
    settings_errors,
)
from bot.settings.values import PLACEHOLDER, parse_cron, parse_duration

__all__ = [
    "PLACEHOLDER",
    "Settings",
    "explain",
    "load_settings",
    "parse_cron",
    "parse_duration",
    "read_environment",
    "secret_names",
    "settings_errors",
]
