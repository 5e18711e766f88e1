"""How a setting's text becomes a value: lists, pairs, durations, cron, secrets; the group base."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, SecretStr

from bot.runtime import Cron

PLACEHOLDER = re.compile(
    r"^(changeme|change-me|secret|token|xxx+|todo|your[-_ ].*|<.*>|\.\.\.)$", re.I
)


class Group(BaseModel):
    """A group of settings; `Settings` is every group in one object."""

    # Never echo an input in a validation error: it may be a secret (a token, a private key).
    # defer_build: a group alone is never validated, so it builds no schema at import (startup).
    model_config = ConfigDict(
        extra="ignore",
        populate_by_name=True,
        frozen=True,
        hide_input_in_errors=True,
        defer_build=True,
    )


def _split(value: object) -> object:
    """Accept `a,b , c` for list settings; pass lists through."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _pairs(value: object) -> object:
    """Accept `key=value,key2=value2` (or `key:value`) for mapping settings."""
    if not isinstance(value, str):
        return value
    out: dict[str, str] = {}
    for n, part in enumerate(value.split(","), 1):
        if not part.strip():
            continue
        sep = "=" if "=" in part else ":"
        key, found, val = part.partition(sep)
        if not found or not key.strip() or not val.strip():
            # Never the value itself: a secret pasted into the wrong setting must not be printed.
            raise ValueError(f"entry {n}: expected key=value")
        out[key.strip()] = val.strip()
    return out


def _blank_is_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _not_placeholder(value: SecretStr | None) -> SecretStr | None:
    if value is not None and PLACEHOLDER.match(value.get_secret_value().strip()):
        raise ValueError("is a placeholder; set the real value or leave it unset")
    return value


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Return the seconds in `90s`, `30m`, `2h` or `3d`."""
    found = _DURATION.fullmatch(text.strip().lower())
    if found is None:
        raise ValueError(f"expected a duration like 90s, 30m, 2h or 3d, got {text.strip()!r}")
    return float(found.group(1)) * _UNIT_S[found.group(2)]


def _duration_or_off(value: object) -> object:
    """Accept a duration text; empty, `0` or `off` turn the feature off (None)."""
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    if text in ("", "0", "off"):
        return None
    seconds = parse_duration(text)
    return seconds if seconds > 0 else None


def _duration(value: object) -> object:
    """Accept `90s`, `30m`, `48h`, `2d` (seconds); blank is None."""
    if not isinstance(value, str) or not value.strip():
        return _blank_is_none(value)
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError(f"expected a duration such as 90s, 30m, 48h or 2d, got {value.strip()!r}")
    return seconds


def parse_cron(value: str) -> Cron:
    """Return the schedule of `[TZ=Area/City ]m h dom mon dow` (5 fields; UTC by default)."""
    fields = value.split()
    tz = "UTC"
    if fields and fields[0].startswith("TZ="):
        tz = fields.pop(0)[3:]
    if len(fields) != 5:
        raise ValueError(f"expected 5 cron fields after an optional TZ=Area/City, got {value!r}")
    return Cron(" ".join(fields), tz)


CsvList = Annotated[list[str], BeforeValidator(_split)]
Pairs = Annotated[dict[str, str], BeforeValidator(_pairs)]
OptionalInt = Annotated[int | None, BeforeValidator(_blank_is_none)]
OptionalStr = Annotated[str | None, BeforeValidator(_blank_is_none)]
OptionalBool = Annotated[bool | None, BeforeValidator(_blank_is_none)]
OptionalSecret = Annotated[SecretStr | None, BeforeValidator(_blank_is_none)]
# A token or shared secret: no default, and a placeholder left from an example is refused.
Secret = Annotated[OptionalSecret, AfterValidator(_not_placeholder)]
OptionalDuration = Annotated[float | None, BeforeValidator(_duration)]
DurationOrOff = Annotated[float | None, BeforeValidator(_duration_or_off)]
