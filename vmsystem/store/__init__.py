"""Persistence of vm-system: SQLAlchemy Core + Alembic, on SQLite (default) or PostgreSQL.

The store imports nothing from the rest of vm-system but the domain model (:mod:`vmsystem.models`),
which it maps rows to and from; the core maps its errors.
"""

from vmsystem.models import (
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
from vmsystem.store.daemons import DaemonLease
from vmsystem.store.errors import ForeignKeyViolation, StoreError, UniqueViolation
from vmsystem.store.recovery import Reaped
from vmsystem.store.store import Store, open_store
from vmsystem.store.writer import (
    FinishExecution,
    InsertEvents,
    InsertExecution,
    Ordinals,
    TouchSession,
    WriteGroup,
    WriteOp,
)

__all__ = [
    "Capability",
    "DaemonLease",
    "Event",
    "EventType",
    "Execution",
    "ExecutionKind",
    "ExecutionStatus",
    "FinishExecution",
    "ForeignKeyViolation",
    "InsertEvents",
    "InsertExecution",
    "Ordinals",
    "Reaped",
    "Session",
    "SessionStatus",
    "StartupFile",
    "Store",
    "StoreError",
    "Template",
    "TouchSession",
    "UniqueViolation",
    "WriteGroup",
    "WriteOp",
    "open_store",
]
