"""Live JavaScript contexts behind an engine interface (V8 through mini-racer)."""

from vmsystem.runtime.base import (
    Completion,
    ConsoleLine,
    ConsoleSink,
    ContextOptions,
    Engine,
    EngineBusy,
    EngineContext,
    EngineError,
    HostError,
    HostFunction,
    Outcome,
    OutcomeKind,
    RunLimits,
)

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
    "get_engine",
]


def get_engine(name: str = "v8") -> Engine:
    """The engine registered under ``name`` (only ``v8`` today)."""
    if name != "v8":
        raise EngineError(f"engine {name!r} is not available")
    from vmsystem.runtime.v8 import V8Engine

    return V8Engine()
