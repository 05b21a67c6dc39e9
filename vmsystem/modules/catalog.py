"""The catalog of native modules and the per-session wiring of their host functions."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from vmsystem.modules.grants import session_modules
from vmsystem.modules.scope import ModuleScope, ModuleSpec
from vmsystem.runtime import HostFunction

__all__ = [
    "BUILTIN_NAMES",
    "ModuleScope",
    "ModuleSpec",
    "build_session_modules",
    "module_name_problem",
    "module_specs",
]

#: JS built-ins: always present, never configurable (MODULE_NOT_ALLOWED).
BUILTIN_NAMES = frozenset(
    {
        "console",
        "math",
        "json",
        "date",
        "array",
        "string",
        "object",
        "promise",
        "number",
        "boolean",
        "symbol",
        "regexp",
        "map",
        "set",
        "error",
        "reflect",
        "proxy",
        "intl",
    }
)


@cache
def module_specs() -> dict[str, ModuleSpec]:
    """Module specs by name (imported on first use)."""
    from vmsystem.modules import database, exec, fs

    return {spec.name: spec for spec in (fs.MODULE, exec.MODULE, database.MODULE)}


def module_name_problem(name: str | None) -> str | None:
    """Why ``name`` is not a configurable native module (None if it is one).

    ``name`` must already be trimmed and lower-cased.
    """
    if not name:
        return "Module name is empty"
    if name in BUILTIN_NAMES:
        return f"'{name}' is a JavaScript built-in and cannot be configured per template"
    if name not in module_specs():
        return f"'{name}' is not a native module (available: {', '.join(sorted(module_specs()))})"
    return None


def build_session_modules(
    names: Sequence[str], scope: ModuleScope
) -> tuple[dict[str, str], dict[str, HostFunction]]:
    """JS factories by module name and host functions by ``"<module>.<op>"``.

    ``names`` is the template's module list; ``module:<name>`` capabilities of the scope add
    modules (enabled) or withdraw them (disabled), see :func:`session_modules`. Raises
    ValueError for a name that is not a native module (the core validates names first).
    """
    from vmsystem.modules.loader import loader_functions

    factories: dict[str, str] = {}
    # The module loader (import/require of worktree files) is always there: it reads only
    # inside the worktree, as run-file does.
    functions: dict[str, HostFunction] = loader_functions(scope.worktree)
    for name in session_modules(names, scope.capabilities):
        problem = module_name_problem(name)
        if problem is not None:
            raise ValueError(problem)
        spec = module_specs()[name]
        factories[spec.name] = spec.js_factory
        for op, fn in spec.build(scope).items():
            key = f"{spec.name}.{op}"
            functions[key] = _recorded(key, fn, scope) if op in spec.side_effects else fn
    return factories, functions


def _recorded(key: str, fn: HostFunction, scope: ModuleScope) -> HostFunction:
    """``fn``, noting on ``scope`` that it was called (even when the call then fails: a
    refused write changed nothing, but the run meant one)."""

    def call(args: list[Any]) -> Any:
        scope.side_effects.add(key)
        return fn(args)

    return call
