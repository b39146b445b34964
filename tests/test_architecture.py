"""The tree shows the architecture: dependencies point inward (see STYLE.md).

The imports of every module under ``gridsvc/`` are read with ``ast``, so a
lazy import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gridsvc"
CORE_FORBIDDEN = {
    "fastapi",
    "starlette",
    "uvicorn",
    "httpx",
    "typer",
    "click",
    "rich",
    "sqlalchemy",
    "sqlite3",
    "psycopg",
    "psycopg2",
    "folium",
    "pydantic_settings",
}
CONFIG_READERS = {"gridsvc.api.app", "gridsvc.cli.context", "gridsvc.intake_writer"}
BANNED_NAMES = {"utils", "util", "helpers", "helper", "common", "misc"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(module: str) -> set[str]:
    """Absolute names of everything the module imports (relative imports resolved)."""
    path = _modules()[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _top(name: str) -> str:
    return name.split(".")[0]


def test_the_walk_sees_the_package() -> None:
    modules = _modules()
    assert {"gridsvc.cli", "gridsvc.api.app", "gridsvc.core.matching"} <= set(modules)
    assert "gridsvc.config" in _imports("gridsvc.cli.context")
    assert "gridsvc.core.crs" in _imports("gridsvc.core.matching")


CORE = sorted(m for m in _modules() if m.startswith("gridsvc.core"))


@pytest.mark.parametrize("module", CORE)
def test_core_imports_only_core_from_gridsvc(module: str) -> None:
    outside = {
        name
        for name in _imports(module)
        if _top(name) == "gridsvc" and not name.startswith("gridsvc.core")
    }
    assert not outside, f"{module} imports {sorted(outside)}"


@pytest.mark.parametrize("module", CORE)
def test_core_has_no_web_sql_cli_or_map_imports(module: str) -> None:
    banned = {name for name in _imports(module) if _top(name) in CORE_FORBIDDEN}
    assert not banned, f"{module} imports {sorted(banned)}"


def test_only_the_composition_roots_read_settings() -> None:
    readers = {
        module
        for module in _modules()
        if any(name.startswith("gridsvc.config") for name in _imports(module))
        and not module.startswith("gridsvc.cli.")  # the command line is one composition root
    }
    assert readers <= CONFIG_READERS, f"unexpected readers of Settings: {readers - CONFIG_READERS}"


def test_nothing_below_the_edges_imports_api_or_cli() -> None:
    edges = ("gridsvc.api", "gridsvc.cli", "gridsvc.__main__")  # __main__ runs the cli
    offenders = {
        module: sorted(n for n in _imports(module) if n.startswith(edges))
        for module in _modules()
        if not module.startswith(edges)
    }
    assert not {m: names for m, names in offenders.items() if names}


def test_no_grab_bag_modules() -> None:
    names = {p.stem for p in PACKAGE.rglob("*.py")} | {
        p.name for p in PACKAGE.rglob("*") if p.is_dir() and p.name != "__pycache__"
    }
    assert not names & BANNED_NAMES
