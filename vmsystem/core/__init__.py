"""The embeddable core of vm-system: domain services over a store and live runtimes.

It imports nothing from the HTTP, CLI or client layers (``tests/test_architecture.py``).
"""

from vmsystem.core.errors import VmError
from vmsystem.core.files import FileContent, FileEntry
from vmsystem.core.recovery import RecoveryConfig
from vmsystem.core.system import VmSystem, open_system
from vmsystem.hosts import HostInfo, HostPool, open_hosts
from vmsystem.models import (
    Capability,
    CapabilityGrant,
    Event,
    EventType,
    Execution,
    ExecutionKind,
    ExecutionMatch,
    ExecutionStatus,
    Limits,
    ResolverSettings,
    RuntimeSettings,
    Session,
    SessionStatus,
    SnapshotStartupFile,
    StartupFile,
    Template,
    TemplateSettings,
    TemplateSnapshot,
)
from vmsystem.runtime import EngineError
from vmsystem.store import StoreError

__all__ = [
    "Capability",
    "CapabilityGrant",
    "EngineError",
    "Event",
    "EventType",
    "Execution",
    "ExecutionKind",
    "ExecutionMatch",
    "ExecutionStatus",
    "FileContent",
    "FileEntry",
    "HostInfo",
    "HostPool",
    "Limits",
    "RecoveryConfig",
    "ResolverSettings",
    "RuntimeSettings",
    "Session",
    "SessionStatus",
    "SnapshotStartupFile",
    "StartupFile",
    "StoreError",
    "Template",
    "TemplateSettings",
    "TemplateSnapshot",
    "VmError",
    "VmSystem",
    "open_hosts",
    "open_system",
]
