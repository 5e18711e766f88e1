"""Logging set-up: human-readable or one JSON object per line, secrets always redacted."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from bot.settings import secret_names

# Fields the runtime and web layer attach with `extra=` that belong in JSON lines: which delivery,
# run, function and step a line is about, how long it took (`ms`) and how it ended (`outcome`;
# `status` is the HTTP status of a webhook answer).
CONTEXT_FIELDS = (
    "delivery_id", "run_id", "function", "attempt", "step", "event", "status", "outcome", "ms",
)  # fmt: skip


# Secrets the contract names that may not be settings yet; every `SecretStr` setting is added.
KNOWN_SECRETS = ("GITHUB_TOKEN", "GITHUB_APP_PRIVATE_KEY", "DASHBOARD_TOKEN")
# Lines of a multi-line secret (a PEM key) are blanked out one by one from this length on.
SECRET_LINE_MIN = 16
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def secrets_in(values: Mapping[str, str]) -> list[str]:
    """Return the secret values present in environment-style `values`, and Redis's password."""
    found: list[str] = []
    for name in dict.fromkeys([*secret_names(), *KNOWN_SECRETS]):
        value = values.get(name, "").strip()
        if value:
            found.append(value)
            lines = [line.strip() for line in value.splitlines()] if "\n" in value else []
            found += [line for line in lines if len(line) >= SECRET_LINE_MIN]
    key_file = values.get("GITHUB_APP_PRIVATE_KEY_FILE", "").strip()
    if key_file:  # the App's key read from its file is as secret as the setting
        try:
            text = Path(key_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        found += [
            line.strip() for line in text.splitlines() if len(line.strip()) >= SECRET_LINE_MIN
        ]
    try:
        password = urlsplit(values.get("REDIS_URL", "").strip()).password
    except ValueError:  # not a URL: the settings will say so, by name
        password = None
    return [*found, password] if password else found


# Interaction tokens ride in webhook URLs (`/webhooks/{application id}/{token}/…`), which
# discord.py logs at DEBUG: each answers for 15 minutes, so none is ever written out.
WEBHOOK_TOKEN = re.compile(r"(/webhooks/\d+/)[^/\s?\"']+")


class RedactSecrets(logging.Filter):
    """Replace every known secret value (and webhook tokens) in a record's message with `***`."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s and len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the message once, redact it, and keep the record."""
        record.msg, record.args = self._redact(record.getMessage()), None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = self._redact(text), None
        for name in CONTEXT_FIELDS:  # header values land here: a sender may put anything in them
            value = getattr(record, name, None)
            if isinstance(value, str):
                setattr(record, name, self._redact(value))
        return True

    def _redact(self, text: str) -> str:
        # Every line passes here: look before replacing (a search is far cheaper than a sub).
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        if "/webhooks/" in text:
            text = WEBHOOK_TOKEN.sub(r"\1***", text)
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the run/delivery context."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON line."""
        out: dict[str, object] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            if hasattr(record, name):
                out[name] = getattr(record, name)
        if record.exc_text or record.exc_info:
            out["error"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(out, default=str)


def configure_from(values: Mapping[str, str], at_least: str = "DEBUG") -> None:
    """Configure logging from raw environment-style `values`, valid settings or not.

    Every command calls this first, so its secrets are redacted before anything can log.
    The level is LOG_LEVEL (default INFO), but never below `at_least`.
    """
    wanted = values.get("LOG_LEVEL", "").strip().upper()
    level = max(LEVELS.index(wanted) if wanted in LEVELS else 1, LEVELS.index(at_least))
    fmt = "json" if values.get("LOG_FORMAT", "").strip() == "json" else "text"
    configure(LEVELS[level], fmt, secrets_in(values))


def configure(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    """Send logs to stderr in `fmt` ("text" or "json"), redacting `secrets`."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # REST-only use makes discord.py's start-up warnings (voice libraries, intents) noise.
    for name in ("discord.client", "discord.state"):
        logging.getLogger(name).setLevel(logging.ERROR)
