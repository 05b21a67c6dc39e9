"""Translation of driver errors into :mod:`vmsystem.store.errors`, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3

from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint
from sqlalchemy.exc import DBAPIError, SQLAlchemyError, StatementError

from vmsystem.store.errors import ForeignKeyViolation, StoreError, UniqueViolation
from vmsystem.store.schema import metadata

__all__ = ["is_integrity_error", "translate", "translate_driver_error"]

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
    "uq_executions_session_id_ordinal": "execution_ordinal",
}


def _sqlite_keys() -> dict[str, str]:
    """SQLite names the columns, not the constraint (or unique index):
    ``UNIQUE constraint failed: t.a, t.b``."""
    keys: dict[str, str] = {}
    for table in metadata.tables.values():
        for constraint in table.constraints:
            if isinstance(constraint, PrimaryKeyConstraint | UniqueConstraint):
                name = str(constraint.name)
                columns = ", ".join(f"{table.name}.{column.name}" for column in constraint.columns)
                keys[columns] = _SEMANTIC_NAMES.get(name, name)
        for index in table.indexes:
            if index.unique:
                name = str(index.name)
                columns = ", ".join(f"{table.name}.{column.name}" for column in index.columns)
                keys[columns] = _SEMANTIC_NAMES.get(name, name)
    return keys


_SQLITE_UNIQUE_KEYS = _sqlite_keys()
_SQLITE_UNIQUE_PREFIX = "UNIQUE constraint failed: "


def _unique_from_sqlite(message: str) -> str | None:
    if not message.startswith(_SQLITE_UNIQUE_PREFIX):
        return None
    return _SQLITE_UNIQUE_KEYS.get(message[len(_SQLITE_UNIQUE_PREFIX) :].strip(), "unknown")


def translate_driver_error(orig: BaseException) -> StoreError:
    """The store error for an exception raised by the DBAPI driver (sqlite3 or psycopg)."""
    sqlstate = getattr(orig, "sqlstate", None)
    message = str(orig).strip()
    if sqlstate is not None:  # psycopg
        if sqlstate == "23505":
            diag = getattr(orig, "diag", None)
            name = str(getattr(diag, "constraint_name", None) or "unknown")
            return UniqueViolation(_SEMANTIC_NAMES.get(name, name), message)
        if sqlstate == "23503":
            return ForeignKeyViolation(message)
        return StoreError(f"database error: {message}")
    if isinstance(orig, sqlite3.IntegrityError):
        unique = _unique_from_sqlite(message)
        if unique is not None:
            return UniqueViolation(unique, message)
        if message.startswith("FOREIGN KEY constraint failed"):
            return ForeignKeyViolation(message)
    return StoreError(f"database error: {message}")


def is_integrity_error(orig: BaseException) -> bool:
    """Whether a driver exception is a constraint violation (the connection stays usable)."""
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:
        return str(sqlstate).startswith("23")
    return isinstance(orig, sqlite3.IntegrityError)


def translate(exc: SQLAlchemyError) -> StoreError:
    """The store error for a SQLAlchemy error (integrity errors keep their meaning)."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return translate_driver_error(exc.orig)
    if isinstance(exc, StatementError) and exc.orig is not None:
        return StoreError(f"cannot write value: {exc.orig}")
    return StoreError(f"database error: {exc}")
