"""requirements.lock pins exactly pyproject's dependencies (and the build backend) with hashes,
so the image never resolves an open range at build time and the lock cannot silently drift."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.deploy import ROOT

LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s\\]+)", re.M)
# Each entry: the pin, its hashes, then the "# via" lines that say who wants it.
ENTRY = re.compile(r"^([A-Za-z0-9._-]+)==\S+((?:\s*\\\n\s+--hash=sha256:[0-9a-f]{64})*)", re.M)
FROM_PYPROJECT = "prbot (pyproject.toml"  # also "prbot (pyproject.toml::build-system.requires)"


def pyproject() -> dict[str, object]:
    """Return pyproject.toml parsed."""
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def wanted() -> list[Requirement]:
    """Return what the image needs: the dependencies and the build backend's requirements."""
    data = pyproject()
    project, build = data["project"], data["build-system"]
    assert isinstance(project, dict) and isinstance(build, dict)
    return [Requirement(r) for r in [*project["dependencies"], *build["requires"]]]


def pins() -> dict[str, Version]:
    """Return name -> pinned version from the lock."""
    return {canonicalize_name(n): Version(v) for n, v in PIN.findall(LOCK.read_text())}


def direct() -> set[str]:
    """Return the names the lock says come straight from pyproject.toml."""
    found: set[str] = set()
    for block in re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text()):
        head = PIN.match(block)
        if head and FROM_PYPROJECT in block:
            found.add(canonicalize_name(head[1]))
    return found


def test_every_dependency_is_pinned_within_its_range() -> None:
    locked = pins()
    for requirement in wanted():
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in requirements.lock: run the update command"
        assert requirement.specifier.contains(locked[name], prereleases=True), requirement


def test_the_lock_says_pyprojects_dependencies_are_exactly_its_direct_ones() -> None:
    # A dependency added to or dropped from pyproject.toml without re-running pip-compile fails.
    assert direct() == {canonicalize_name(r.name) for r in wanted()}


def test_what_extras_bring_is_locked_too() -> None:
    locked = pins()
    for requirement in wanted():
        for extra in requirement.extras:  # fakeredis[lua] needs lupa
            listed = [Requirement(r) for r in metadata.requires(requirement.name) or []]
            brought = [r for r in listed if r.marker and r.marker.evaluate({"extra": extra})]
            brought = [r for r in brought if r.marker and not r.marker.evaluate({"extra": ""})]
            assert brought, requirement
            for r in brought:
                assert canonicalize_name(r.name) in locked, f"{r.name} ({requirement})"


def test_every_entry_is_pinned_with_hashes() -> None:
    text = LOCK.read_text()
    entries = ENTRY.findall(text)
    assert len(entries) == len(pins()) > 10
    for name, hashes in entries:
        assert "--hash=sha256:" in hashes, name
    assert not re.search(r"^[A-Za-z0-9._-]+\s*(>=|<=|~=|>|<|!=)", text, re.M)  # no open range


def test_the_readme_shows_the_command_that_made_the_lock() -> None:
    header = re.search(r"^#    (pip-compile .+)$", LOCK.read_text(), re.M)
    assert header is not None
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert header[1] in readme
