"""The layers import in one direction only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "vmsystem"
FORBIDDEN = {
    "core": {
        "fastapi",
        "starlette",
        "uvicorn",
        "sse_starlette",
        "typer",
        "click",
        "httpx",
        "vmsystem.api",
        "vmsystem.cli",
        "vmsystem.client",
    },
    "store": {
        "fastapi",
        "starlette",
        "uvicorn",
        "typer",
        "httpx",
        "vmsystem.api",
        "vmsystem.cli",
        "vmsystem.client",
        "vmsystem.core",
        "vmsystem.runtime",
    },
    "runtime": {
        "fastapi",
        "starlette",
        "uvicorn",
        "typer",
        "httpx",
        "vmsystem.api",
        "vmsystem.cli",
        "vmsystem.client",
        "vmsystem.core",
        "vmsystem.store",
        "vmsystem.modules",
        "vmsystem.hosts",
    },
    "libraries": {
        "vmsystem.api",
        "vmsystem.cli",
        "vmsystem.client",
        "vmsystem.core",
        "vmsystem.store",
        "vmsystem.runtime",
        "fastapi",
        "httpx",
    },
    "api": {"vmsystem.cli", "vmsystem.client", "typer"},
    # Below the core: a session host process builds modules next to its isolate.
    "modules": {
        "fastapi",
        "starlette",
        "uvicorn",
        "typer",
        "httpx",
        "vmsystem.api",
        "vmsystem.cli",
        "vmsystem.client",
        "vmsystem.core",
        "vmsystem.store",
        "vmsystem.hosts",
        "vmsystem.libraries",
    },
    # Hosts use modules and runtime only (a host process never loads the core or the store).
    "hosts": {
        "fastapi",
        "starlette",
        "uvicorn",
        "typer",
        "httpx",
        "vmsystem.api",
        "vmsystem.cli",
        "vmsystem.client",
        "vmsystem.core",
        "vmsystem.store",
        "vmsystem.libraries",
    },
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(layer: str, forbidden: set[str]) -> list[str]:
    found = []
    assert (PACKAGE / layer).is_dir(), f"no layer {layer}"
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in _imports(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_does_not_import_upward(layer: str) -> None:
    assert _violations(layer, FORBIDDEN[layer]) == []


def test_client_imports_only_httpx_and_itself() -> None:
    allowed_vmsystem = ("vmsystem.client",)
    found = []
    for path in sorted((PACKAGE / "client").rglob("*.py")):
        for name in _imports(path):
            if name.startswith("vmsystem") and not name.startswith(allowed_vmsystem):
                found.append(f"{path.name} imports {name}")
    assert found == []


def test_architecture_check_detects_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from vmsystem.api import create_app\nimport fastapi\n")
    assert {"vmsystem.api", "fastapi"} <= _imports(bad)
