"""The engine interface: what the core needs from a JavaScript engine.

An :class:`Engine` creates :class:`EngineContext` objects, one per session. A context runs one
piece of code at a time with limits, streams console lines to a sink while it runs, can be
interrupted from another thread, and reports an :class:`Outcome` that never contains raw
engine values (payloads are built inside the engine, as JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

__all__ = [
    "Completion",
    "ConsoleLine",
    "ConsoleSink",
    "ContextOptions",
    "Engine",
    "EngineBusy",
    "EngineContext",
    "EngineError",
    "HostError",
    "HostFunction",
    "Outcome",
    "OutcomeKind",
    "RunLimits",
]

#: A console line: (level, text, unix time in ms).
ConsoleLine = tuple[str, str, float]
#: Receives console lines while code runs (called from the engine's thread; must be quick).
ConsoleSink = Callable[[list[ConsoleLine]], None]
#: A synchronous host function reachable from JS through ``require``d modules.
#: It gets the JSON-decoded argument list and returns a JSON-encodable value.
HostFunction = Callable[[list[Any]], Any]


class EngineError(Exception):
    """The engine failed (not the user's code): context creation, a lost runtime."""


class EngineBusy(EngineError):
    """The context is running code, so it cannot answer (e.g. a completion) now."""


class HostError(Exception):
    """Raised by a host function to throw an error into JS (``js_name`` picks the JS class)."""

    def __init__(self, message: str, js_name: str = "Error") -> None:
        super().__init__(message)
        self.js_name = js_name


class OutcomeKind(StrEnum):
    """How a run ended."""

    OK = "ok"  # completion value in ``value``
    EXCEPTION = "exception"  # the JS threw; ``exception`` = {name, message, stack?}
    WALL_TIMEOUT = "wall_timeout"
    CPU_TIMEOUT = "cpu_timeout"
    MEMORY = "memory"
    OUTPUT_LIMIT = "output_limit"
    CANCELLED = "cancelled"
    LOST = "lost"  # the runtime cannot go on (its host died, or its engine is wedged)


@dataclass(frozen=True, slots=True)
class RunLimits:
    """Limits of one run. ``None`` disables a limit."""

    wall_ms: float | None = 5000
    cpu_ms: float | None = 2000


@dataclass(frozen=True, slots=True)
class ContextOptions:
    """How to build a context (fixed for the context's lifetime).

    ``max_events`` counts console events only (the core reserves the echo and terminal event).
    ``modules`` maps a ``require`` name to the JS source of a factory
    ``function (hostCall, name) { return {...} }``; ``host_functions`` maps ``"<module>.<op>"``
    to the Python side of those calls. ``deterministic_seed`` turns deterministic mode on:
    seeded ``Math.random``/``crypto`` and a virtual clock (see docs/runtime.md).
    """

    mem_mb: int = 128
    max_console_events: int = 50000
    max_events: int = 50000
    max_output_kb: int = 256
    console: bool = True
    strict: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    modules: Mapping[str, str] = field(default_factory=dict)
    #: Built inside the host, next to the isolate: never sent to one (see hosts/wire.py).
    host_functions: Mapping[str, HostFunction] = field(
        default_factory=dict, metadata={"wire": False}
    )
    hidden_globals: tuple[str, ...] = ()
    deterministic_seed: int | None = None
    #: What an unhandled promise rejection does: ``throw`` ends the run with it (Node's
    #: default), ``warn`` prints a warning and the run goes on.
    unhandled_rejections: str = "throw"


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of :meth:`EngineContext.run` (change it with :func:`dataclasses.replace`)."""

    kind: OutcomeKind
    value: dict[str, Any] | None = None
    exception: dict[str, Any] | None = None
    message: str = ""
    duration_ms: float = 0.0
    cpu_ms: float | None = None
    console_events: int = 0
    output_bytes: int = 0
    #: The side-effecting native-module functions the run called (``"exec.run"``...), sorted.
    side_effects: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Completion:
    """What may replace ``code[cursor_start:cursor_end]`` (offsets in characters)."""

    matches: tuple[str, ...]
    cursor_start: int
    cursor_end: int

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (as the API answers it)."""
        return {
            "matches": list(self.matches),
            "cursor_start": self.cursor_start,
            "cursor_end": self.cursor_end,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Completion:
        """The inverse of :meth:`to_dict`."""
        return cls(
            tuple(str(m) for m in data["matches"]),
            int(data["cursor_start"]),
            int(data["cursor_end"]),
        )


class EngineContext(Protocol):
    """One live JS global context (one session's runtime)."""

    @property
    def alive(self) -> bool:
        """False once closed or lost."""
        ...

    def run(
        self,
        code: str,
        *,
        filename: str | None = None,
        limits: RunLimits,
        sink: ConsoleSink,
        args: Any = None,
        env: Mapping[str, str] | None = None,
    ) -> Outcome:
        """Run ``code`` in the global scope; blocks until it ends or a limit stops it."""
        ...

    def complete(self, code: str, cursor: int) -> Completion:
        """Names that may complete the identifier before ``cursor`` in ``code`` (globals, REPL
        bindings, keywords, or properties along the prototype chain after a ``.``), found
        without running user code. Raises :class:`EngineBusy` while a run is in progress."""
        ...

    def cancel(self) -> bool:
        """Interrupt the current run from any thread; False if nothing was running."""
        ...

    def close(self) -> None:
        """Dispose the context and its threads; idempotent."""
        ...


class Engine(Protocol):
    """A JavaScript engine able to create contexts."""

    name: str

    @property
    def version(self) -> str:
        """The engine's version string."""
        ...

    def create_context(self, options: ContextOptions) -> EngineContext:
        """A fresh context with the prelude (console, require, process) installed."""
        ...
