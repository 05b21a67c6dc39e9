"""The embeddable core of vm-system: domain services over a store and live runtimes.

It imports nothing from the HTTP, CLI or client layers (``tests/test_architecture.py``).
"""

from vmsystem.core.errors import VmError
from vmsystem.core.system import VmSystem, open_system
from vmsystem.store.records import (
    Capability,
    Event,
    EventType,
    Execution,
    ExecutionKind,
    ExecutionStatus,
    Session,
    SessionStatus,
    StartupFile,
    Template,
)

__all__ = [
    "Capability",
    "Event",
    "EventType",
    "Execution",
    "ExecutionKind",
    "ExecutionStatus",
    "Session",
    "SessionStatus",
    "StartupFile",
    "Template",
    "VmError",
    "VmSystem",
    "open_system",
]
