"""Translation of driver errors into :mod:`vmsystem.store.errors`, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError, StatementError

from vmsystem.store.errors import ForeignKeyViolation, StoreError, UniqueViolation
from vmsystem.store.schema import metadata

__all__ = ["translate"]

#: Backend-independent names of the uniqueness constraints, by constraint name.
_SEMANTIC_NAMES: dict[str, str] = {
    "pk_templates": "template_id",
    "uq_templates_name": "template_name",
    "pk_template_capabilities": "capability_id",
    "uq_template_capabilities_kind_name": "capability",
    "pk_template_startup_files": "startup_file_id",
    "uq_template_startup_files_path": "startup_file_path",
    "pk_template_modules": "template_module",
    "pk_template_libraries": "template_library",
    "pk_sessions": "session_id",
    "pk_executions": "execution_id",
    "pk_events": "event_seq",
}


def _sqlite_keys() -> dict[str, str]:
    """SQLite names the columns, not the constraint: ``UNIQUE constraint failed: t.a, t.b``."""
    keys: dict[str, str] = {}
    for table in metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, PrimaryKeyConstraint | UniqueConstraint):
                name = str(constraint.name)
                columns = ", ".join(f"{table.name}.{column.name}" for column in constraint.columns)
                keys[columns] = _SEMANTIC_NAMES.get(name, name)
    return keys


_SQLITE_UNIQUE_KEYS = _sqlite_keys()
_SQLITE_UNIQUE_PREFIX = "UNIQUE constraint failed: "


def _unique_from_sqlite(message: str) -> str | None:
    if not message.startswith(_SQLITE_UNIQUE_PREFIX):
        return None
    return _SQLITE_UNIQUE_KEYS.get(message[len(_SQLITE_UNIQUE_PREFIX) :].strip(), "unknown")


def _integrity(exc: IntegrityError) -> StoreError:
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:  # psycopg
        if sqlstate == "23505":
            diag = getattr(orig, "diag", None)
            name = str(getattr(diag, "constraint_name", None) or "unknown")
            return UniqueViolation(_SEMANTIC_NAMES.get(name, name), str(orig).strip())
        if sqlstate == "23503":
            return ForeignKeyViolation(str(orig).strip())
        return StoreError(str(orig).strip())
    message = str(orig)
    unique = _unique_from_sqlite(message)
    if unique is not None:
        return UniqueViolation(unique, message)
    if message.startswith("FOREIGN KEY constraint failed"):
        return ForeignKeyViolation(message)
    return StoreError(message)


def translate(exc: SQLAlchemyError) -> StoreError:
    """The store error for a SQLAlchemy error (integrity errors keep their meaning)."""
    if isinstance(exc, IntegrityError):
        return _integrity(exc)
    if isinstance(exc, DBAPIError):
        return StoreError(f"database error: {str(exc.orig).strip()}")
    if isinstance(exc, StatementError) and exc.orig is not None:
        return StoreError(f"cannot write value: {exc.orig}")
    return StoreError(f"database error: {exc}")
