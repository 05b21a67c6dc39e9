"""What every native module is built from: a session's :class:`ModuleScope` and a module's
:class:`ModuleSpec` (a module of their own, below both the catalog and the modules)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vmsystem.modules.grants import CapabilityLike
from vmsystem.runtime import HostFunction

__all__ = ["ModuleScope", "ModuleSpec"]


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
    #: The side-effecting host functions (``"<module>.<op>"``) called during the current run
    #: (cleared before each run): what tells whether replaying the run is safe.
    side_effects: set[str] = field(default_factory=set)

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
    #: The functions that change something outside the session's JS heap (a process run, a
    #: file or database write): a call is recorded on the scope (see ``side_effects``).
    side_effects: tuple[str, ...] = ()
