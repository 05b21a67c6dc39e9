"""The catalog of native modules and the per-session wiring of their host functions."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from vmsystem.modules.grants import CapabilityLike, session_modules
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


@dataclass
class ModuleScope:
    """What a session's host functions may touch."""

    session_id: str
    worktree: Path
    capabilities: Sequence[CapabilityLike]
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    #: Host calls block the JS thread, so engine termination cannot stop a waiting one (an
    #: exec.run child, a long SQL statement); these two can. ``interrupt``: set it (from any
    #: thread) on cancel or close, clear it before each run. ``deadline``: the running
    #: execution's wall-time deadline on the ``time.monotonic()`` clock, or None.
    interrupt: threading.Event = field(default_factory=threading.Event)
    deadline: float | None = None
    #: The session's resolved ``process.env`` (what ``exec`` children see besides PATH, HOME
    #: and LANG). None: derive it from the grants and this process's environment, which is
    #: right only in the daemon's own process (a host process's environment is scrubbed).
    environment: Mapping[str, str] | None = None
    #: The session's memory budget (``limits.mem_mb``): host-module results (SQL rows) are
    #: capped against it, since they live outside V8's heap limit until converted.
    mem_mb: int | None = None

    def time_left(self, cap_s: float) -> float:
        """Seconds a host call may still wait: ``cap_s``, or less if the deadline is nearer."""
        if self.deadline is None:
            return cap_s
        return max(min(cap_s, self.deadline - time.monotonic()), 0.0)

    def capability(self, kind: str, name: str) -> CapabilityLike | None:
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
            functions[f"{spec.name}.{op}"] = fn
    return factories, functions
