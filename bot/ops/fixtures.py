"""Recorded webhook deliveries: load them from fixture files, sign them, write new ones.

A fixture is one JSON file, `{"headers": {...}, "payload": {...}}`, holding a delivery as GitHub
sent it minus the signatures, which depend on the secret and are computed at replay time. A
scenario is a folder of fixtures replayed in file-name order. See fixtures/README.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from bot.github.webhooks import (
    JSON_TYPE,
    META_HEADERS,
    SIGNATURE_HEADER,
    BadDeliveryError,
    delivery_headers,
    sign,
)

__all__ = [
    "Delivery",
    "FixtureError",
    "dump_delivery",
    "load_deliveries",
    "load_delivery",
    "scenarios_dir",
    "sign",
]

# The legacy SHA-1 signature GitHub still sends beside X-Hub-Signature-256.
SHA1_SIGNATURE_HEADER = "X-Hub-Signature"
CONTENT_TYPE = "Content-Type"
_CANONICAL = {
    name.lower(): name
    for name in (*META_HEADERS, CONTENT_TYPE, SIGNATURE_HEADER, SHA1_SIGNATURE_HEADER)
}
_SIGNATURES = {SIGNATURE_HEADER.lower(), SHA1_SIGNATURE_HEADER.lower()}


class FixtureError(ValueError):
    """A fixture file or folder that cannot be loaded or written, and why."""


@dataclass(frozen=True)
class Delivery:
    """One recorded delivery, ready to be signed and sent again."""

    event: str
    delivery_id: str
    headers: dict[str, str]
    body: bytes
    source: Path

    def payload(self) -> dict[str, object]:
        """Return a fresh copy of the decoded payload."""
        value: object = json.loads(self.body)
        if not isinstance(value, dict):  # load_delivery only builds objects
            raise FixtureError(f"{self.source}: payload is not a JSON object")
        return value

    def signed_headers(self, secret: str) -> dict[str, str]:
        """Return the headers plus the signatures GitHub would send for `body` with `secret`."""
        sha1 = hmac.new(secret.encode(), self.body, hashlib.sha1).hexdigest()
        return {
            **self.headers,
            SIGNATURE_HEADER: sign(self.body, secret),
            SHA1_SIGNATURE_HEADER: f"sha1={sha1}",
        }


def scenarios_dir() -> Path:
    """Return the repository's fixtures/scenarios folder."""
    # A source checkout (or editable install) has it next to the package; an installed copy
    # run from inside the repository finds it under the working directory.
    candidates = [
        Path(__file__).resolve().parents[2] / "fixtures" / "scenarios",
        Path.cwd() / "fixtures" / "scenarios",
    ]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise FixtureError(f"no fixtures/scenarios folder found (tried {tried})")


def load_delivery(path: Path) -> Delivery:
    """Load one fixture file; raise FixtureError saying what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FixtureError(f"{path}: no such fixture file") from None
    except IsADirectoryError:
        raise FixtureError(f"{path}: is a folder; use load_deliveries for a scenario") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FixtureError(f"{path}: cannot read: {exc}") from None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise FixtureError(f"{path}: invalid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise FixtureError(f"{path}: expected an object with 'headers' and 'payload'")
    headers = _recorded_headers(document.get("headers"), path)
    payload = document.get("payload")
    if not isinstance(payload, dict):
        raise FixtureError(f"{path}: 'payload' must be a JSON object")
    event, delivery_id = _ids(headers, path)
    return Delivery(event, delivery_id, headers, _body(payload), path)


def load_deliveries(paths: Iterable[Path]) -> list[Delivery]:
    """Load fixture files and scenario folders (their *.json files by name), in order given."""
    deliveries: list[Delivery] = []
    for path in paths:
        if path.is_dir():
            files = sorted((p for p in path.iterdir() if _is_fixture(p)), key=lambda p: p.name)
            if not files:
                raise FixtureError(f"{path}: no *.json fixtures in this folder")
            deliveries.extend(load_delivery(file) for file in files)
        else:
            deliveries.append(load_delivery(path))
    return deliveries


def dump_delivery(headers: Mapping[str, str], payload: Mapping[str, object], path: Path) -> None:
    """Write a delivery as a fixture file, leaving out the signature headers."""
    recorded = _recorded_headers(dict(headers), path)
    _ids(recorded, path)  # never write a fixture that would not load
    document = {"headers": recorded, "payload": dict(payload)}
    try:
        text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise FixtureError(f"{path}: payload is not JSON: {exc}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def _is_fixture(path: Path) -> bool:
    return path.suffix == ".json" and path.is_file() and not path.name.startswith(".")


def _body(payload: Mapping[str, object]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def _recorded_headers(headers: object, path: Path) -> dict[str, str]:
    """Return the headers to keep: canonical names, no signatures, a JSON content type."""
    recorded = {
        name: value
        for name, value in _canonical_headers(headers, path).items()
        if name.lower() not in _SIGNATURES  # they depend on the secret: computed at replay
    }
    recorded[CONTENT_TYPE] = JSON_TYPE  # the payload is stored, and replayed, as JSON
    return recorded


def _canonical_headers(headers: object, path: Path) -> dict[str, str]:
    """Return the headers under canonical names; names match case-insensitively."""
    if not isinstance(headers, dict):
        raise FixtureError(f"{path}: 'headers' must be a JSON object of strings")
    canonical: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise FixtureError(f"{path}: header {name!r} must have a string value")
        key = _CANONICAL.get(name.lower(), name)
        if any(existing.lower() == key.lower() for existing in canonical):
            raise FixtureError(f"{path}: header {name!r} appears twice")
        canonical[key] = value
    return canonical


def _ids(headers: Mapping[str, str], path: Path) -> tuple[str, str]:
    """Return (event, delivery id), validated the way the webhook route validates them."""
    try:
        return delivery_headers(headers)
    except BadDeliveryError as exc:
        raise FixtureError(f"{path}: {exc}") from None
