"""The layers import in one direction only.

Each layer lists the vm-system packages it may import (everything else of vm-system is
forbidden), and the third-party frameworks it must not import. Imports are read from the AST:
absolute, relative (``from .x import y``) and function-level ones alike.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "vmsystem"
WEB_FRAMEWORKS = frozenset({"fastapi", "starlette", "uvicorn", "sse_starlette", "typer", "click"})

#: vm-system packages (and leaf modules) each layer may import, besides itself. Every top-level
#: module and package of vmsystem has a rule (``vmsystem`` alone: ``__version__``).
ALLOWED: dict[str, frozenset[str]] = {
    "models": frozenset(),
    # Every error code declared once as data (the core's and the SDK's error classes are
    # generated from it; the API reads the status of each code from it).
    "errorcodes": frozenset(),
    # The daemon's settings, declared once: data, and where the library cache lives.
    "settings": frozenset({"vmsystem.libraries"}),
    # ``python -m vmsystem``: the CLI.
    "__main__": frozenset({"vmsystem.cli"}),
    # The web UI's built files (static assets; no code of its own).
    "web": frozenset(),
    "libraries": frozenset(),
    "runtime": frozenset(),
    # Below the core: a session host process builds modules next to its isolate, and never
    # loads the core or the store.
    "modules": frozenset({"vmsystem.runtime"}),
    "hosts": frozenset({"vmsystem", "vmsystem.modules", "vmsystem.runtime"}),
    "store": frozenset({"vmsystem.models"}),
    "core": frozenset(
        {
            "vmsystem",
            "vmsystem.models",
            "vmsystem.store",
            "vmsystem.runtime",
            "vmsystem.modules",
            "vmsystem.hosts",
            "vmsystem.libraries",
        }
    ),
    # The MCP tools are defined once against a backend interface: the API backs them with the
    # core (api/mcp.py), `vm-system mcp` with the SDK (cli/mcp.py).
    "mcp": frozenset(),
    "api": frozenset({"vmsystem", "vmsystem.core", "vmsystem.errorcodes", "vmsystem.mcp"}),
    "client": frozenset(),
    "cli": frozenset(
        {"vmsystem", "vmsystem.client", "vmsystem.libraries", "vmsystem.settings", "vmsystem.mcp"}
    ),
}
#: Third-party packages each layer must not import.
FORBIDDEN_THIRD_PARTY: dict[str, frozenset[str]] = {
    "models": WEB_FRAMEWORKS | {"httpx", "sqlalchemy"},
    "errorcodes": WEB_FRAMEWORKS | {"httpx", "sqlalchemy", "py_mini_racer"},
    "settings": WEB_FRAMEWORKS | {"httpx", "sqlalchemy"},
    "__main__": frozenset(),
    "web": WEB_FRAMEWORKS | {"httpx", "sqlalchemy"},
    "libraries": WEB_FRAMEWORKS | {"httpx"},
    "runtime": WEB_FRAMEWORKS | {"httpx", "sqlalchemy"},
    "modules": WEB_FRAMEWORKS | {"httpx", "sqlalchemy"},
    "hosts": WEB_FRAMEWORKS | {"httpx", "sqlalchemy"},
    "store": WEB_FRAMEWORKS | {"httpx"},
    "core": WEB_FRAMEWORKS | {"httpx"},
    "mcp": WEB_FRAMEWORKS | {"httpx", "sqlalchemy", "py_mini_racer"},
    "api": frozenset({"typer", "click", "httpx"}),
    "client": WEB_FRAMEWORKS | {"sqlalchemy", "py_mini_racer"},
    "cli": frozenset(),
}
#: The one CLI command that runs the daemon may also use the core, the API and the store, inside
#: its function bodies only (so that client commands never load the server stack).
SERVE_MODULE = "cli/serve.py"
SERVE_EXTRA = frozenset({"vmsystem.core", "vmsystem.api", "vmsystem.store"})


@dataclass(frozen=True)
class Import:
    """One imported module name, and whether the import sits inside a function."""

    name: str
    in_function: bool


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve_relative(path: Path, level: int, module: str | None) -> str:
    """The absolute name of ``from <level dots><module> import ...`` in ``path``."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    base = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*base, module] if module else base)


def imports_of(path: Path) -> list[Import]:
    """Every import in a module, with relative names made absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.Import):
                found.extend(Import(alias.name, in_function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = _resolve_relative(path, child.level, child.module)
                    # ``from . import x`` may import a submodule x
                    names = [base] if child.module else [f"{base}.{a.name}" for a in child.names]
                    found.extend(Import(n, in_function) for n in names)
                elif child.module:
                    # ``from vmsystem import store`` imports the module vmsystem.store, not
                    # (only) the package: name the submodules it takes.
                    subs = [f"{child.module}.{a.name}" for a in child.names]
                    modules = [n for n in subs if _is_module(n)]
                    found.extend(Import(n, in_function) for n in modules)
                    if len(modules) < len(subs):  # names defined in the module itself
                        found.append(Import(child.module, in_function))
            visit(child, inner)

    visit(tree, False)
    return found


def _is_module(name: str) -> bool:
    """Whether ``name`` is a module or package of vmsystem."""
    parts = name.split(".")
    if parts[0] != "vmsystem" or len(parts) < 2:
        return False
    base = PACKAGE.joinpath(*parts[1:])
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def _within(name: str, packages: frozenset[str] | set[str]) -> bool:
    return any(name == p or (p != "vmsystem" and name.startswith(p + ".")) for p in packages)


def _layer_files(layer: str) -> list[Path]:
    single = PACKAGE / f"{layer}.py"
    if single.exists():
        return [single]
    return sorted((PACKAGE / layer).rglob("*.py"))


def violations(layer: str) -> list[str]:
    """Imports of ``layer`` that break its rules."""
    found: list[str] = []
    for path in _layer_files(layer):
        found.extend(file_violations(layer, path, path.relative_to(PACKAGE).as_posix()))
    return found


def file_violations(layer: str, path: Path, rel: str) -> list[str]:
    """Imports of the file ``path`` (named ``rel`` in the package) that break ``layer``'s
    rules."""
    own = f"vmsystem.{layer}"
    found = []
    for imp in imports_of(path):
        name = imp.name
        top = name.split(".")[0]
        if top == "vmsystem":
            allowed = set(ALLOWED[layer]) | {own}
            if rel == SERVE_MODULE and imp.in_function:
                allowed |= SERVE_EXTRA
            if not _within(name, allowed):
                found.append(f"{rel} imports {name}")
        elif top in FORBIDDEN_THIRD_PARTY[layer]:
            found.append(f"{rel} imports {name}")
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports_only_what_it_may(layer: str) -> None:
    assert violations(layer) == []


def top_level() -> set[str]:
    """Every top-level module and package of vmsystem (its ``__init__`` aside)."""
    packages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}
    return packages | modules


def test_every_top_level_module_and_package_has_a_rule() -> None:
    names = top_level()
    assert {"models", "settings", "__main__", "core", "web"} <= names
    assert names - set(ALLOWED) == set(), f"add a rule for {sorted(names - set(ALLOWED))}"
    assert set(ALLOWED) == set(FORBIDDEN_THIRD_PARTY)


@pytest.mark.parametrize(
    ("layer", "source", "caught"),
    [
        ("api", "from vmsystem import store\n", "vmsystem.store"),
        ("api", "from vmsystem import __version__, store\n", "vmsystem.store"),
        ("client", "from vmsystem import core\n", "vmsystem.core"),
        ("settings", "from vmsystem.core import open_system\n", "vmsystem.core"),
        ("settings", "import fastapi\n", "fastapi"),
        ("__main__", "from vmsystem import api\n", "vmsystem.api"),
        ("web", "from vmsystem import models\n", "vmsystem.models"),
    ],
)
def test_each_rule_catches_what_it_forbids(
    tmp_path: Path, layer: str, source: str, caught: str
) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(source)
    assert [v for v in file_violations(layer, probe, "probe.py") if caught in v] != []


def _forbidden_probes() -> list[tuple[str, str, str]]:
    """For every rule, each import it forbids: every other top-level module of vmsystem not
    in the layer's row (imported as ``from vmsystem import X``, the form that once slipped
    through), the package itself where ``__version__`` is not allowed, and every forbidden
    third-party package."""
    probes = []
    for layer in sorted(ALLOWED):
        for other in sorted(top_level() - {layer}):
            name = f"vmsystem.{other}"
            if not _within(name, ALLOWED[layer]):
                probes.append((layer, f"from vmsystem import {other}\n", name))
        if "vmsystem" not in ALLOWED[layer]:
            probes.append((layer, "from vmsystem import __version__\n", "vmsystem"))
        for package in sorted(FORBIDDEN_THIRD_PARTY[layer]):
            probes.append((layer, f"import {package}\n", package))
    return probes


@pytest.mark.parametrize(("layer", "source", "caught"), _forbidden_probes())
def test_every_rule_catches_each_import_it_forbids(
    tmp_path: Path, layer: str, source: str, caught: str
) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(source)
    assert file_violations(layer, probe, "probe.py") == [f"probe.py imports {caught}"]


def test_every_rule_has_a_probe() -> None:
    probed = {layer for layer, _, _ in _forbidden_probes()}
    assert probed == set(ALLOWED)


def test_a_package_attribute_import_is_not_a_module_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("from vmsystem import __version__\n")
    assert imports_of(probe) == [Import("vmsystem", False)]
    assert file_violations("api", probe, "probe.py") == []


def test_the_check_reads_relative_and_function_level_imports(tmp_path: Path) -> None:
    pkg = PACKAGE / "api"
    bad = pkg / "_architecture_probe.py"
    bad.write_text(
        "from ..store import Store\n"
        "def f():\n"
        "    from vmsystem.cli import main\n"
        "    import fastapi\n"
    )
    try:
        names = {(i.name, i.in_function) for i in imports_of(bad)}
        assert ("vmsystem.store", False) in names
        assert ("vmsystem.cli.main", True) in names or ("vmsystem.cli", True) in names
        assert ("fastapi", True) in names
        found = violations("api")
        assert any("vmsystem.store" in v for v in found)
        assert any("vmsystem.cli" in v for v in found)
    finally:
        bad.unlink()


def test_cli_may_use_the_server_stack_only_inside_serve_functions() -> None:
    path = PACKAGE / SERVE_MODULE
    top_level = [i.name for i in imports_of(path) if not i.in_function]
    assert not any(_within(n, SERVE_EXTRA) for n in top_level)


def _module_graph(root: Path) -> dict[str, set[str]]:
    """Every module of the package under ``root`` and the package modules it imports (at any
    level: top, function, TYPE_CHECKING), ``from pkg import sub`` naming the submodule."""
    modules: dict[str, Path] = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_module_of_the_package_imports_one_that_imports_it_back() -> None:
    graph = _module_graph(PACKAGE)
    assert "vmsystem.hosts.base" in graph
    assert _circles(graph) == []


def test_the_circle_check_finds_a_circle(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from pkg import b\n")
    (pkg / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import f\n"
    )
    (pkg / "c.py").write_text("import pkg.a\n")
    assert _circles(_module_graph(pkg)) == [["pkg.a", "pkg.b"]]
