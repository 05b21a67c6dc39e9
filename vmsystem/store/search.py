"""Full-text search over finished executions: what is indexed, how it is written, and queries.

Each finished execution has one ``execution_search`` row (migration ``0002``) whose ``body`` is
its input (or run-file path), its console text and its error's ``name: message``. SQLite
indexes ``body`` with FTS5 (``execution_search_fts``, kept in step by triggers); PostgreSQL
keeps a ``tsvector`` of the body's words (``'simple'`` configuration) under a GIN index.

Words are runs of letters and digits, compared case-insensitively, on both backends; a query
is a list of plain words that must all occur (no operators: user input is never parsed as FTS
syntax). The writer indexes an execution in the transaction that finishes it
(:class:`SearchIndexer`), so the index is never behind the executions table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, MetaData, Table, Text, select, text

from vmsystem.models import Execution, ExecutionMatch, ExecutionStatus
from vmsystem.store import jsontext
from vmsystem.store.database import Database
from vmsystem.store.rows import execution_from_row
from vmsystem.store.schema import executions
from vmsystem.store.statements import Cursor

__all__ = [
    "MAX_DOCUMENT_CHARS",
    "MAX_QUERY_WORDS",
    "SNIPPET_CHARS",
    "SearchIndexer",
    "SearchStore",
    "document",
    "execution_search",
    "query_words",
]

#: The indexed text of one execution is cut after this many characters.
MAX_DOCUMENT_CHARS = 100_000
#: Words of a query beyond this many are ignored.
MAX_QUERY_WORDS = 32
#: Length of a result's snippet (plus an ellipsis at either end when cut).
SNIPPET_CHARS = 160

_WORD = re.compile(r"[^\W_]+")

#: The columns of ``execution_search`` both backends share (its own metadata: the table and
#: its index differ by backend, see migration 0002).
execution_search = Table(
    "execution_search",
    MetaData(),
    Column("execution_id", Text, primary_key=True),
    Column("session_id", Text, nullable=False),
    Column("body", Text, nullable=False),
)


def words(value: str) -> list[str]:
    """The lower-case words of ``value`` (runs of letters and digits)."""
    return _WORD.findall(value.lower())


def query_words(q: str) -> list[str]:
    """The distinct words of a query, in order, at most :data:`MAX_QUERY_WORDS`."""
    return list(dict.fromkeys(words(q)))[:MAX_QUERY_WORDS]


def document(execution: Execution, console: Sequence[str]) -> str:
    """The indexed text of a finished execution: input (or path), console lines, error."""
    parts = [
        execution.input if execution.input is not None else (execution.path or ""),
        *console,
    ]
    error = execution.error
    if isinstance(error, dict):
        message = ": ".join(str(error[k]) for k in ("name", "message") if error.get(k))
        if message:
            parts.append(message)
    # PostgreSQL text cannot hold NUL characters.
    return "\n".join(p for p in parts if p).replace("\x00", "")[:MAX_DOCUMENT_CHARS]


class SearchIndexer:
    """Writes the search rows of finished executions on the writer's DBAPI cursor."""

    def __init__(self, dialect_name: str) -> None:
        self._postgres = dialect_name == "postgresql"
        mark = "%s" if self._postgres else "?"
        self._console = (
            f"SELECT payload FROM events WHERE execution_id = {mark} AND type = 'console'"
            " ORDER BY seq"
        )
        if self._postgres:
            self._upsert = (
                "INSERT INTO execution_search (execution_id, session_id, body, document)"
                " VALUES (%s, %s, %s, to_tsvector('simple', %s))"
                " ON CONFLICT (execution_id) DO UPDATE"
                " SET body = excluded.body, document = excluded.document"
            )
        else:
            self._upsert = (
                "INSERT INTO execution_search (execution_id, session_id, body) VALUES (?, ?, ?)"
                " ON CONFLICT (execution_id) DO UPDATE SET body = excluded.body"
            )

    def index(self, cursor: Cursor, finished: Sequence[Execution]) -> None:
        """Index ``finished`` executions (their events already written in this transaction)."""
        rows: list[tuple[str, ...]] = []
        for execution in finished:
            if execution.status is ExecutionStatus.RUNNING:
                continue
            cursor.execute(self._console, (execution.id,))
            console = [str(jsontext.loads(p).get("text", "")) for (p,) in cursor.fetchall()]
            body = jsontext.well_formed(document(execution, console))
            if self._postgres:
                rows.append((execution.id, execution.session_id, body, " ".join(words(body))))
            else:
                rows.append((execution.id, execution.session_id, body))
        if len(rows) == 1:
            cursor.execute(self._upsert, rows[0])
        elif rows:
            cursor.executemany(self._upsert, rows)


_SQLITE_SEARCH = (
    "SELECT s.execution_id, s.body, h.score FROM ("
    " SELECT execution_search_fts.rowid AS rid, -bm25(execution_search_fts) AS score"
    " FROM execution_search_fts{join}"
    " WHERE execution_search_fts MATCH :q{where}"
    " ORDER BY score DESC, rid DESC LIMIT :lim OFFSET :off"
    ") h JOIN execution_search s ON s.id = h.rid ORDER BY h.score DESC, h.rid DESC"
)
_SQLITE_SESSION_JOIN = " JOIN execution_search f ON f.id = execution_search_fts.rowid"
_POSTGRES_SEARCH = (
    "SELECT s.execution_id, s.body, h.score FROM ("
    " SELECT execution_id, ts_rank_cd(document, q) AS score"
    " FROM execution_search, to_tsquery('simple', :q) AS q"
    " WHERE document @@ q{where}"
    " ORDER BY score DESC, execution_id DESC LIMIT :lim OFFSET :off"
    ") h JOIN execution_search s ON s.execution_id = h.execution_id"
    " ORDER BY h.score DESC, h.execution_id DESC"
)


def snippet(body: str, terms: Sequence[str]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """About :data:`SNIPPET_CHARS` characters of ``body`` around the first whole-word match
    of ``terms`` (newlines shown as spaces), and the offsets of every match in it."""
    pattern = re.compile(
        r"(?<![^\W_])(?:" + "|".join(map(re.escape, terms)) + r")(?![^\W_])", re.IGNORECASE
    )
    first = pattern.search(body)
    start = 0 if first is None else max(0, first.start() - SNIPPET_CHARS // 4)
    end = min(len(body), start + SNIPPET_CHARS)
    start = max(0, min(start, end - SNIPPET_CHARS))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(body) else ""
    core = body[start:end].replace("\r", " ").replace("\n", " ")
    spans = tuple((m.start() + len(prefix), m.end() + len(prefix)) for m in pattern.finditer(core))
    return prefix + core + suffix, spans


class SearchStore:
    """The ``search_executions`` method of :class:`vmsystem.store.Store` (thread-safe)."""

    _db: Database

    def search_executions(
        self, q: str, *, session_id: str | None = None, limit: int = 20, offset: int = 0
    ) -> tuple[list[ExecutionMatch], bool]:
        """Finished executions whose indexed text has every word of ``q``, best first.

        Returns one page (``limit`` hits after ``offset``) and whether more follow. A query
        without any word matches nothing.
        """
        terms = query_words(q)
        if not terms:
            return [], False
        params: dict[str, Any] = {"lim": limit + 1, "off": offset}
        where = ""
        if session_id is not None:
            params["sid"] = session_id
        if self._db.is_sqlite:
            # Each word quoted: FTS5 reads it as a plain string, never as an operator.
            params["q"] = " ".join(f'"{t}"' for t in terms)
            join = ""
            if session_id is not None:
                join, where = _SQLITE_SESSION_JOIN, " AND f.session_id = :sid"
            sql = _SQLITE_SEARCH.format(join=join, where=where)
        else:
            params["q"] = " & ".join(terms)  # words are letters and digits only
            if session_id is not None:
                where = " AND session_id = :sid"
            sql = _POSTGRES_SEARCH.format(where=where)
        with self._db.read() as connection:
            hits = connection.execute(text(sql), params).all()
            more = len(hits) > limit
            hits = hits[:limit]
            ids = [h.execution_id for h in hits]
            found = {
                row.id: execution_from_row(row)
                for row in connection.execute(select(executions).where(executions.c.id.in_(ids)))
            }
        matches = []
        for hit in hits:
            execution = found.get(hit.execution_id)
            if execution is None:  # deleted between the two reads cannot happen in one
                continue  # snapshot, but a search must never fail on it
            shown, spans = snippet(hit.body, terms)
            matches.append(ExecutionMatch(execution, float(hit.score), shown, spans))
        return matches, more
