"""The Jinja2 environment of the dashboard and the transcript page: autoescaped, with filters."""

from __future__ import annotations

import datetime
import functools
import json
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.web.markup import markdown

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def clock(ms: int | None) -> str:
    """Return a UTC time of day with milliseconds, `14:03:07.123`, or an empty string."""
    if ms is None:
        return ""
    moment = datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC)
    return moment.strftime("%H:%M:%S.") + f"{ms % 1000:03d}"


def iso(ms: int | None) -> str:
    """Return an ISO 8601 UTC timestamp for `<time datetime=…>`."""
    if ms is None:
        return ""
    moment = datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def duration(ms: float | None) -> str:
    """Return a short duration: `850 ms`, `4.2 s`, `3 min 5 s`, `2 h 10 min`."""
    if ms is None:
        return ""
    if ms < 1000:
        return f"{ms:.0f} ms" if ms >= 10 else f"{ms:.1f} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def colour(value: int | None) -> str:
    """Return an embed colour as CSS (`#5865f2`); Discord's default grey when unset."""
    return f"#{value:06x}" if value is not None else "#4e5058"


def initials(name: str) -> str:
    """Return up to two capital letters for an avatar."""
    parts = [p for p in name.replace("-", " ").replace("_", " ").split() if p]
    letters = "".join(p[0] for p in parts[:2]) or name[:2]
    return letters.upper()


def pretty_json(text: str | None) -> str:
    """Return a saved JSON text indented for reading (as it is when it is not JSON)."""
    if not text:
        return ""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


@functools.cache
def environment() -> Environment:
    """Return the shared template environment (built once)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        clock=clock,
        iso=iso,
        duration=duration,
        colour=colour,
        initials=initials,
        markdown=markdown,
        pretty_json=pretty_json,
    )
    return env


def render(template: str, **context: object) -> str:
    """Render one template with `context`."""
    return environment().get_template(template).render(**context)
