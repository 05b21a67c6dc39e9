"""The ``database`` native module: one SQLite connection per session.

``configure("sqlite3", dsn)`` opens ``:memory:`` or a database file inside the worktree (same
confinement as ``fs``); ``query`` returns row objects, ``exec`` returns
``{success, rowsAffected, lastInsertId}``; array parameters are flattened one level, like the
original. The connection is in autocommit mode (``BEGIN``/``COMMIT`` work as SQL), cannot
``ATTACH`` other files (nor ``VACUUM INTO`` them) or load extensions, and a statement is
stopped after :data:`STATEMENT_TIMEOUT_S`, at the execution's deadline or on cancel. The
session's close closes the connection.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from vmsystem.modules.catalog import ModuleScope, ModuleSpec
from vmsystem.modules.fs import confine
from vmsystem.runtime import HostError, HostFunction

__all__ = ["MAX_RESULT_ROWS", "MODULE", "STATEMENT_TIMEOUT_S"]

#: Longest one statement may run.
STATEMENT_TIMEOUT_S = 10.0
#: Most rows one query returns.
MAX_RESULT_ROWS = 100_000
_MAX_RESULT_CHARS = 16 * 1024 * 1024
_DENIED_PRAGMAS = frozenset({"temp_store_directory", "data_store_directory", "writable_schema"})
_NOT_CONFIGURED = "database not configured: call configure(driver, dsn) first"

_JS_FACTORY = """function (hostCall, name) {
  "use strict";
  return {
    configure: (driver, dsn) => { hostCall("configure", [driver, dsn]); },
    query: (sql, ...params) => hostCall("query", [sql, params]),
    exec: (sql, ...params) => hostCall("exec", [sql, params]),
    close: () => { hostCall("close", []); },
  };
}"""


def _authorize(
    action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None
) -> int:
    """SQLite authorizer: no other database files, no file-system pragmas."""
    if action == sqlite3.SQLITE_ATTACH:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA and (arg1 or "").lower() in _DENIED_PRAGMAS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _flatten(params: Any) -> list[Any]:
    if not isinstance(params, list):
        raise HostError("database: parameters must be an array", "TypeError")
    out: list[Any] = []
    for param in params:
        for value in param if isinstance(param, list) else [param]:
            if value is None or isinstance(value, bool | int | float | str):
                out.append(value)
            else:
                kind = "array" if isinstance(value, list) else "object"
                raise HostError(
                    f"database: unsupported parameter of type {kind} (use numbers, strings, "
                    f"booleans, null, or a flat array of them)",
                    "TypeError",
                )
    return out


def _cell(value: Any) -> Any:
    if isinstance(value, bytes):
        return list(value)  # a BLOB becomes an array of byte values
    return value


class _Handle:
    """The session's connection, guarded by a lock (cleanup may run on another thread)."""

    def __init__(self, scope: ModuleScope) -> None:
        self.scope = scope
        self.root = Path(os.path.realpath(scope.worktree))
        self.conn: sqlite3.Connection | None = None
        self.lock = threading.Lock()
        self.deadline = 0.0

    def close(self) -> None:
        with self.lock:
            if self.conn is not None:
                conn, self.conn = self.conn, None
                conn.close()

    def configure(self, args: list[Any]) -> None:
        driver = args[0] if args else None
        dsn = args[1] if len(args) > 1 else None
        if driver != "sqlite3":
            raise HostError(f"database: unsupported driver {driver!r} (only 'sqlite3')")
        if not isinstance(dsn, str) or not dsn.strip():
            raise HostError(
                "database.configure: dsn must be ':memory:' or a file path", "TypeError"
            )
        target = ":memory:" if dsn == ":memory:" else str(confine(self.root, dsn, "database"))
        if target != ":memory:" and os.path.isdir(target):
            raise HostError(f"database: dsn is a directory: {dsn}")
        try:
            conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise HostError(f"database: cannot open {dsn}: {exc}") from None
        conn.set_authorizer(_authorize)
        conn.set_progress_handler(self._progress, 1000)
        self.close()
        with self.lock:
            self.conn = conn

    def _progress(self) -> int:
        return 1 if self.scope.interrupt.is_set() or time.monotonic() > self.deadline else 0

    def _run(self, args: list[Any]) -> sqlite3.Cursor:
        sql = args[0] if args else None
        if not isinstance(sql, str):
            raise HostError("database: sql must be a string", "TypeError")
        params = _flatten(args[1] if len(args) > 1 else [])
        if self.conn is None:
            raise HostError(_NOT_CONFIGURED)
        self.deadline = time.monotonic() + self.scope.time_left(STATEMENT_TIMEOUT_S)
        try:
            return self.conn.execute(sql, params)
        except sqlite3.OperationalError as exc:
            if str(exc) == "interrupted":
                raise HostError("database: statement stopped (time limit or cancel)") from None
            raise HostError(f"database: {exc}") from None
        except (sqlite3.Error, OverflowError) as exc:
            raise HostError(f"database: {exc}") from None

    def query(self, args: list[Any]) -> list[dict[str, Any]]:
        with self.lock:
            cursor = self._run(args)
            columns = [d[0] for d in cursor.description or ()]
            rows: list[dict[str, Any]] = []
            chars = 0
            try:
                for row in cursor:
                    rows.append({c: _cell(v) for c, v in zip(columns, row, strict=True)})
                    chars += sum(len(v) if isinstance(v, str | bytes) else 8 for v in row)
                    if len(rows) > MAX_RESULT_ROWS or chars > _MAX_RESULT_CHARS:
                        raise HostError(
                            f"database: query result too large (over {MAX_RESULT_ROWS} rows or "
                            f"{_MAX_RESULT_CHARS // (1024 * 1024)} MiB); use LIMIT"
                        )
            except sqlite3.Error as exc:
                raise HostError(f"database: {exc}") from None
            finally:
                cursor.close()
            return rows

    def exec(self, args: list[Any]) -> dict[str, Any]:
        with self.lock:
            cursor = self._run(args)
            try:
                cursor.fetchall()
            except sqlite3.Error as exc:
                raise HostError(f"database: {exc}") from None
            affected = cursor.rowcount if cursor.rowcount >= 0 else 0
            last_id = cursor.lastrowid or 0
            cursor.close()
            return {"success": True, "rowsAffected": affected, "lastInsertId": last_id}

    def close_call(self, args: list[Any]) -> None:
        self.close()


def _build(scope: ModuleScope) -> dict[str, HostFunction]:
    handle = _Handle(scope)
    scope.cleanups.append(handle.close)
    return {
        "configure": handle.configure,
        "query": handle.query,
        "exec": handle.exec,
        "close": handle.close_call,
    }


MODULE = ModuleSpec(
    name="database",
    description=(
        "SQLite for the session: configure('sqlite3', ':memory:' or a file inside the "
        "worktree), query(sql, ...params) -> rows, exec(sql, ...params) -> "
        "{success, rowsAffected, lastInsertId}, close(). One connection per session."
    ),
    functions=("configure", "query", "exec", "close"),
    js_factory=_JS_FACTORY,
    build=_build,
    capabilities=(),
)
