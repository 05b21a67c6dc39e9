"""The ``database`` native module: one SQLite connection per session.

``configure("sqlite3", dsn)`` opens ``:memory:`` or a database file inside the worktree (same
confinement as ``fs``); ``query`` returns row objects, ``exec`` returns
``{success, rowsAffected, lastInsertId}``; array parameters are flattened one level, like the
original. The connection is in autocommit mode (``BEGIN``/``COMMIT`` work as SQL), cannot
``ATTACH`` other files (nor ``VACUUM INTO`` them) or load extensions, and a statement is
stopped after :data:`STATEMENT_TIMEOUT_S`, at the execution's deadline or on cancel. The
session's close closes the connection.

Rows are built in the daemon's memory, outside V8's heap limit, so a query's result is
capped in bytes against the session's ``mem_mb`` (:func:`result_budget`), and SQLite itself
refuses any string or BLOB longer than that (``SQLITE_LIMIT_LENGTH``: ``zeroblob(1e9)`` fails
before a gigabyte is allocated). Without ``fs:write`` a database file is opened read-only and
never created.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

from vmsystem.modules.fs import confine
from vmsystem.modules.scope import ModuleScope, ModuleSpec
from vmsystem.runtime import HostError, HostFunction

__all__ = ["MAX_RESULT_BYTES", "MAX_RESULT_ROWS", "MODULE", "STATEMENT_TIMEOUT_S", "result_budget"]

#: Longest one statement may run.
STATEMENT_TIMEOUT_S = 10.0
#: Most rows one query returns.
MAX_RESULT_ROWS = 100_000
#: Most bytes one query's result may take (less with a small ``mem_mb``).
MAX_RESULT_BYTES = 16 * 1024 * 1024
#: What a BLOB byte costs once it is a JS array of numbers (and its Python list on the way).
_BLOB_BYTE_COST = 8
_MIB = 1024 * 1024
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


def result_budget(mem_mb: int | None) -> int:
    """The bytes one query result may take: a quarter of the session's ``mem_mb`` (the rows
    are copied into V8, which holds them within that limit), at most :data:`MAX_RESULT_BYTES`."""
    if mem_mb is None or mem_mb <= 0:
        return MAX_RESULT_BYTES
    return max(min(MAX_RESULT_BYTES, mem_mb * _MIB // 4), 64 * 1024)


def _cost(value: Any) -> int:
    if isinstance(value, bytes):
        return len(value) * _BLOB_BYTE_COST
    if isinstance(value, str):
        return len(value)
    return 8


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
        self.budget = result_budget(scope.mem_mb)

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
        self.budget = result_budget(self.scope.mem_mb)
        writable = self.scope.capability("fs", "write") is not None
        if target != ":memory:" and not writable and not os.path.exists(target):
            raise HostError(
                f"database: {dsn} does not exist, and creating a database file needs the "
                f"fs:write capability (use ':memory:')"
            )
        try:
            if target == ":memory:" or writable:
                conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
            else:  # read-only: no writes, no journal files, nothing created
                uri = "file:" + urllib.parse.quote(target) + "?mode=ro"
                conn = sqlite3.connect(uri, isolation_level=None, check_same_thread=False, uri=True)
        except sqlite3.Error as exc:
            raise HostError(f"database: cannot open {dsn}: {exc}") from None
        # SQLite refuses to build a string or BLOB over this (zeroblob, printf, replace...),
        # before allocating it; a little over the budget so the budget's message wins below it.
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, self.budget + 1)
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
            if "too big" in str(exc):
                raise HostError(
                    f"database: {exc} (strings and BLOBs are limited to {self.budget} bytes, a "
                    f"quarter of the session's mem_mb at most 16 MiB)"
                ) from None
            raise HostError(f"database: {exc}") from None

    def query(self, args: list[Any]) -> list[dict[str, Any]]:
        with self.lock:
            cursor = self._run(args)
            columns = [d[0] for d in cursor.description or ()]
            rows: list[dict[str, Any]] = []
            size = 0
            try:
                for row in cursor:
                    # Counted before the row is converted (a BLOB becomes a list of numbers).
                    size += sum(_cost(v) for v in row)
                    if len(rows) >= MAX_RESULT_ROWS or size > self.budget:
                        raise HostError(
                            f"database: query result too large (over {MAX_RESULT_ROWS} rows or "
                            f"{self.budget // 1024} KiB, a quarter of the session's mem_mb at "
                            f"most 16 MiB; a BLOB byte counts {_BLOB_BYTE_COST}); use LIMIT"
                        )
                    rows.append({c: _cell(v) for c, v in zip(columns, row, strict=True)})
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
    side_effects=("exec",),
)
