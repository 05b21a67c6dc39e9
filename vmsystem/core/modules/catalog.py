"""The catalog of native modules and the per-session wiring of their host functions."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from vmsystem.core.errors import ModuleNotAllowed
from vmsystem.models import Capability
from vmsystem.runtime import HostFunction

__all__ = [
    "BUILTIN_NAMES",
    "ModuleScope",
    "ModuleSpec",
    "build_session_modules",
    "module_specs",
    "normalize_module_name",
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


@dataclass
class ModuleScope:
    """What a session's host functions may touch."""

    session_id: str
    worktree: Path
    capabilities: Sequence[Capability]
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    #: Host calls block the JS thread, so engine termination cannot stop a waiting one (an
    #: exec.run child, a long SQL statement); these two can. ``interrupt``: set it (from any
    #: thread) on cancel or close, clear it before each run. ``deadline``: the running
    #: execution's wall-time deadline on the ``time.monotonic()`` clock, or None.
    interrupt: threading.Event = field(default_factory=threading.Event)
    deadline: float | None = None

    def time_left(self, cap_s: float) -> float:
        """Seconds a host call may still wait: ``cap_s``, or less if the deadline is nearer."""
        if self.deadline is None:
            return cap_s
        return max(min(cap_s, self.deadline - time.monotonic()), 0.0)

    def capability(self, kind: str, name: str) -> Capability | None:
        """The enabled capability ``kind:name``, if granted."""
        for cap in self.capabilities:
            if cap.kind == kind and cap.name == name and cap.enabled:
                return cap
        return None


@dataclass(frozen=True)
class ModuleSpec:
    """A native module: its JS face and a builder of its host functions."""

    name: str
    description: str
    functions: tuple[str, ...]
    js_factory: str
    build: Callable[[ModuleScope], dict[str, HostFunction]]
    capabilities: tuple[str, ...] = ()


@cache
def module_specs() -> dict[str, ModuleSpec]:
    """Module specs by name (imported on first use)."""
    from vmsystem.core.modules import database, exec, fs

    return {spec.name: spec for spec in (fs.MODULE, exec.MODULE, database.MODULE)}


def normalize_module_name(name: str | None) -> str:
    """Trim and lower-case; raise MODULE_NOT_ALLOWED for built-ins and unknown names."""
    normalized = (name or "").strip().lower()
    if not normalized:
        raise ModuleNotAllowed("Module name is empty")
    if normalized in BUILTIN_NAMES:
        raise ModuleNotAllowed(
            f"'{normalized}' is a JavaScript built-in and cannot be configured per template",
            module=normalized,
        )
    if normalized not in module_specs():
        raise ModuleNotAllowed(
            f"'{normalized}' is not a native module "
            f"(available: {', '.join(sorted(module_specs()))})",
            module=normalized,
        )
    return normalized


def build_session_modules(
    names: Sequence[str], scope: ModuleScope
) -> tuple[dict[str, str], dict[str, HostFunction]]:
    """JS factories by module name and host functions by ``"<module>.<op>"``.

    ``names`` is the template's module list; ``module:<name>`` capabilities of the scope add
    modules (enabled) or withdraw them (disabled), see :func:`session_modules`.
    """
    from vmsystem.core.capabilities import session_modules

    factories: dict[str, str] = {}
    functions: dict[str, HostFunction] = {}
    for name in session_modules(names, scope.capabilities):
        spec = module_specs()[normalize_module_name(name)]
        factories[spec.name] = spec.js_factory
        for op, fn in spec.build(scope).items():
            functions[f"{spec.name}.{op}"] = fn
    return factories, functions
