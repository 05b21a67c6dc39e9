"""The writer's statements: Core constructs compiled ONCE for the engine's dialect and run
directly on DBAPI cursors (no per-call compilation, cache lookup or result processing).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Dialect, bindparam, func, insert, literal_column, select, update
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from vmsystem.models import Event, Execution
from vmsystem.store import jsontext
from vmsystem.store.schema import events, executions, sessions
from vmsystem.store.sqltypes import to_micros

__all__ = ["Cursor", "WriteStatements"]


class Cursor(Protocol):
    """The part of a DBAPI cursor the writer uses."""

    @property
    def rowcount(self) -> int:
        """Rows affected by the last statement."""

    def execute(self, sql: str, params: Any = ..., /) -> Any:
        """Run one statement."""

    def executemany(self, sql: str, params: Sequence[Any], /) -> Any:
        """Run one statement for each parameter set."""

    def fetchall(self) -> Sequence[Any]:
        """The rows of the last query."""

    def fetchone(self) -> Any:
        """The next row of the last query (None at the end)."""


class _Prepared:
    """A statement compiled for one dialect: SQL text plus the order of its parameters."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        self.sql = str(compiled)
        self._keys = tuple(compiled.positiontup or ()) if compiled.positional else None

    def run(self, cursor: Cursor, rows: list[dict[str, Any]]) -> int:
        """Execute for every row (``executemany`` when there are several); rows affected."""
        params: list[Any] = rows
        if self._keys is not None:
            keys = self._keys
            params = [tuple([row[k] for k in keys]) for row in rows]
        if len(params) == 1:
            cursor.execute(self.sql, params[0])
        else:
            cursor.executemany(self.sql, params)
        return int(cursor.rowcount)

    def returning(self, cursor: Cursor, row: dict[str, Any]) -> Any:
        """Execute once for ``row``; the first column of the one row it returns."""
        params: Any = row
        if self._keys is not None:
            params = tuple([row[k] for k in self._keys])
        cursor.execute(self.sql, params)
        returned = cursor.fetchone()
        return None if returned is None else returned[0]


def _json(value: Any) -> str | None:
    return None if value is None else jsontext.dumps(value)


def _aware(value: datetime) -> datetime:
    to_micros(value)  # refuses naive datetimes
    return value


class WriteStatements:
    """The four statements of the writer and the conversion of records to their parameters.

    Values are converted exactly as the column types (``UtcDateTime``, ``JsonText``) would.
    """

    def __init__(self, dialect: Dialect) -> None:
        # The ordinal is the session's next one, taken in the insert itself (an index lookup
        # on the unique (session_id, ordinal)): a second writer inserting into the same session
        # at once fails on that index instead of duplicating it, and its retry takes the next.
        last = func.coalesce(func.max(executions.c.ordinal), literal_column("0"))
        next_ordinal = (
            select(last + literal_column("1"))
            .where(executions.c.session_id == bindparam("ordinal_session_id"))
            .scalar_subquery()
        )
        values: dict[str, Any] = {
            c.name: bindparam(c.name) for c in executions.columns if c.name != "ordinal"
        }
        self.insert_execution = _Prepared(
            insert(executions)
            .values(**values, ordinal=next_ordinal)
            .returning(executions.c.ordinal),
            dialect,
        )
        self.insert_event = _Prepared(insert(events), dialect)
        self.finish_execution = _Prepared(
            update(executions)
            .where(executions.c.id == bindparam("execution_id"))
            .values(
                status=bindparam("status"),
                ended_at=bindparam("ended_at"),
                result=bindparam("result"),
                error=bindparam("error"),
                metrics=bindparam("metrics"),
            ),
            dialect,
        )
        self.touch_session = _Prepared(
            update(sessions)
            .where(sessions.c.id == bindparam("session_id"))
            .values(last_activity_at=bindparam("last_activity_at")),
            dialect,
        )
        #: PostgreSQL only (SQLite's BEGIN IMMEDIATE already serializes writers): lock the
        #: sessions whose executions a transaction inserts, in id order, so that two writers
        #: take a session's next ordinals one after the other instead of colliding.
        self.lock_sessions: str | None = (
            None
            if dialect.name == "sqlite"
            else "SELECT id FROM sessions WHERE id = ANY(%(ids)s) ORDER BY id FOR UPDATE"
        )
        #: PostgreSQL only: tell other daemons which executions got events or a final row
        #: (delivered at commit; :class:`vmsystem.store.notify.CommitListener` hears it).
        self.notify: str | None = (
            None if dialect.name == "sqlite" else "SELECT pg_notify(%(channel)s, %(ids)s)"
        )
        timestamp: Callable[[datetime], Any] = to_micros if dialect.name == "sqlite" else _aware
        self._timestamp = timestamp
        #: The daemon whose executions these are (``executions.daemon_id``; None: no lease).
        self.daemon_id: str | None = None

    def _ts(self, value: datetime | None) -> Any:
        return None if value is None else self._timestamp(value)

    def execution_row(self, e: Execution) -> dict[str, Any]:
        """Parameters of ``insert_execution``."""
        return {
            "id": e.id,
            "session_id": e.session_id,
            "kind": str(e.kind),
            "input": e.input,
            "path": e.path,
            "args": _json(e.args),
            "env": _json(e.env),
            "status": str(e.status),
            "started_at": self._ts(e.started_at),
            "ended_at": self._ts(e.ended_at),
            "result": _json(e.result),
            "error": _json(e.error),
            "metrics": _json(e.metrics),
            "provenance": _json(e.provenance),
            "replay_of": e.replay_of,
            "daemon_id": self.daemon_id,
            "ordinal_session_id": e.session_id,
        }

    def event_row(self, e: Event) -> dict[str, Any]:
        """Parameters of ``insert_event``."""
        return {
            "execution_id": e.execution_id,
            "seq": e.seq,
            "ts": self._ts(e.ts),
            "type": str(e.type),
            "payload": _json(e.payload),
        }

    def finish_row(self, e: Execution) -> dict[str, Any]:
        """Parameters of ``finish_execution``."""
        return {
            "execution_id": e.id,
            "status": str(e.status),
            "ended_at": self._ts(e.ended_at),
            "result": _json(e.result),
            "error": _json(e.error),
            "metrics": _json(e.metrics),
        }

    def touch_row(self, session_id: str, last_activity_at: datetime) -> dict[str, Any]:
        """Parameters of ``touch_session``."""
        return {"session_id": session_id, "last_activity_at": self._ts(last_activity_at)}
