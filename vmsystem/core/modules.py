"""The native modules as the core sees them: :mod:`vmsystem.modules` plus the validation that
raises the core's typed errors."""

from __future__ import annotations

from collections.abc import Sequence

from vmsystem.core.errors import ModuleNotAllowed
from vmsystem.modules import (
    BUILTIN_NAMES,
    Grant,
    ModuleScope,
    ModuleSpec,
    module_name_problem,
    module_specs,
    session_modules,
)
from vmsystem.modules import build_session_modules as _build_session_modules
from vmsystem.runtime import HostFunction

__all__ = [
    "BUILTIN_NAMES",
    "Grant",
    "ModuleScope",
    "ModuleSpec",
    "build_session_modules",
    "module_specs",
    "normalize_module_name",
    "session_modules",
]


def normalize_module_name(name: str | None) -> str:
    """Trim and lower-case; raise MODULE_NOT_ALLOWED for built-ins and unknown names."""
    normalized = (name or "").strip().lower()
    problem = module_name_problem(normalized)
    if problem is not None:
        raise ModuleNotAllowed(problem, **({"module": normalized} if normalized else {}))
    return normalized


def build_session_modules(
    names: Sequence[str], scope: ModuleScope
) -> tuple[dict[str, str], dict[str, HostFunction]]:
    """:func:`vmsystem.modules.build_session_modules`, with MODULE_NOT_ALLOWED for a bad name."""
    for name in session_modules(names, scope.capabilities):
        normalize_module_name(name)
    return _build_session_modules(names, scope)
