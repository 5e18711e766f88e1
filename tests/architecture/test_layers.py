"""The layer contract in pyproject.toml holds, and it catches a lower layer importing a higher."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """Run `lint-imports` on the copy of the product at `tree`."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    cli = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(cli), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True, timeout=60
    )


def copy_product(tmp_path: Path) -> Path:
    """Copy pyproject.toml, bot/ and functions/ into `tmp_path`."""
    for name in ("bot", "functions"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_its_layers(tmp_path: Path) -> None:
    result = lint_imports(copy_product(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_runtime_module_importing_the_web_layer_breaks_the_contract(tmp_path: Path) -> None:
    tree = copy_product(tmp_path)
    clock = tree / "bot" / "runtime" / "clock.py"
    clock.write_text(clock.read_text() + "\nimport bot.web.app  # noqa\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and "bot.runtime.clock -> bot.web.app" in result.stdout


def test_discord_py_outside_its_door_breaks_the_contract(tmp_path: Path) -> None:
    tree = copy_product(tmp_path)
    render = tree / "bot" / "prs" / "render.py"
    render.write_text(render.read_text() + "\nimport discord  # noqa\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "bot.prs.render -> discord" in result.stdout


def test_githubkit_outside_its_door_breaks_the_contract(tmp_path: Path) -> None:
    tree = copy_product(tmp_path)
    render = tree / "bot" / "prs" / "render.py"
    render.write_text(render.read_text() + "\nimport githubkit  # noqa\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "bot.prs.render -> githubkit" in result.stdout


def test_redis_outside_the_store_breaks_the_contract(tmp_path: Path) -> None:
    # What `prbot check`'s probe once did: its own client for CONFIG GET, beside the store.
    tree = copy_product(tmp_path)
    probe = tree / "bot" / "ops" / "check" / "probe.py"
    old = [
        "import redis.asyncio as aioredis  # noqa",
        "from redis.exceptions import RedisError  # noqa",
    ]
    probe.write_text("\n".join([probe.read_text(), *old, ""]))
    runtime = tree / "bot" / "runtime" / "clock.py"  # the store's own layer is no exception
    runtime.write_text(runtime.read_text() + "\nimport fakeredis  # noqa\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "bot.ops.check.probe -> redis" in result.stdout
    assert "bot.runtime.clock -> fakeredis" in result.stdout


def test_no_import_cycles_counting_deferred_and_type_checking_imports() -> None:
    graph = grimp.build_graph("bot", "functions")  # grimp sees every import statement
    cycles = [
        (a, b)
        for a in graph.modules
        for b in graph.find_modules_directly_imported_by(a)
        if a != b and graph.chain_exists(importer=b, imported=a)
    ]
    assert cycles == []


def test_only_the_store_holds_the_redis_client() -> None:
    allowed = {"store.py", "data.py", "reads.py"}
    offenders = []
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("functions/**/*.py")]:
        if path.parent.name == "runtime" and path.name in allowed:
            continue
        tree = ast.parse(path.read_text())
        uses = [
            n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "redis"
        ]
        offenders += [f"{path.relative_to(ROOT)}:{line}" for line in uses]
    assert offenders == []
