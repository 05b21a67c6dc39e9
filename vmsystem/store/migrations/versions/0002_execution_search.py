"""Full-text search over executions: one ``execution_search`` row per finished execution
(its input or path, console text and error message), indexed by SQLite FTS5 on SQLite and by a
``tsvector`` with a GIN index on PostgreSQL. Existing finished executions are indexed here.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen copies of the live rules (vmsystem/store/search.py); never import live code here.
_MAX_CHARS = 100_000
_WORD = re.compile(r"[^\W_]+")
_BACKFILL_PAGE = 500


def _table(document: bool) -> None:
    columns: list[Any] = [
        sa.Column("execution_id", sa.Text(), nullable=False),
        sa.Column("session_id", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("execution_id", name="pk_execution_search"),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name="fk_execution_search_execution_id",
            ondelete="CASCADE",
        ),
    ]
    if document:
        columns.insert(3, sa.Column("document", sa.dialects.postgresql.TSVECTOR(), nullable=False))
    op.create_table("execution_search", *columns)


def upgrade() -> None:
    """Create the search table and its index, then index every finished execution."""
    if op.get_bind().dialect.name == "postgresql":
        _table(document=True)
        op.create_index(
            "ix_execution_search_document",
            "execution_search",
            ["document"],
            postgresql_using="gin",
        )
        op.create_index("ix_execution_search_session_id", "execution_search", ["session_id"])
    else:
        # An explicit INTEGER PRIMARY KEY: the FTS rowid must survive VACUUM.
        op.execute(
            "CREATE TABLE execution_search ("
            " id INTEGER NOT NULL,"
            " execution_id TEXT NOT NULL,"
            " session_id TEXT NOT NULL,"
            " body TEXT NOT NULL,"
            " CONSTRAINT pk_execution_search PRIMARY KEY (id),"
            " CONSTRAINT uq_execution_search_execution_id UNIQUE (execution_id),"
            " CONSTRAINT fk_execution_search_execution_id FOREIGN KEY (execution_id)"
            "  REFERENCES executions (id) ON DELETE CASCADE)"
        )
        op.create_index("ix_execution_search_session_id", "execution_search", ["session_id"])
        # External-content FTS5 over ``body`` (the text is stored once), kept in step by
        # triggers; ``remove_diacritics 0`` matches PostgreSQL's 'simple' configuration.
        op.execute(
            "CREATE VIRTUAL TABLE execution_search_fts USING fts5("
            "body, content='execution_search', content_rowid='id',"
            " tokenize='unicode61 remove_diacritics 0')"
        )
        op.execute(
            "CREATE TRIGGER execution_search_ai AFTER INSERT ON execution_search BEGIN"
            " INSERT INTO execution_search_fts(rowid, body) VALUES (new.id, new.body); END"
        )
        op.execute(
            "CREATE TRIGGER execution_search_ad AFTER DELETE ON execution_search BEGIN"
            " INSERT INTO execution_search_fts(execution_search_fts, rowid, body)"
            " VALUES ('delete', old.id, old.body); END"
        )
        op.execute(
            "CREATE TRIGGER execution_search_au AFTER UPDATE ON execution_search BEGIN"
            " INSERT INTO execution_search_fts(execution_search_fts, rowid, body)"
            " VALUES ('delete', old.id, old.body);"
            " INSERT INTO execution_search_fts(rowid, body) VALUES (new.id, new.body); END"
        )
    _backfill()


def _document(row: Any, console: list[str]) -> str:
    parts = [row.input if row.input is not None else (row.path or ""), *console]
    error = orjson.loads(row.error) if row.error else None
    if isinstance(error, dict):
        text = ": ".join(str(error[k]) for k in ("name", "message") if error.get(k))
        if text:
            parts.append(text)
    # PostgreSQL text cannot hold NUL characters.
    return "\n".join(p for p in parts if p).replace("\x00", "")[:_MAX_CHARS]


def _backfill() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    after = ""
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT id, session_id, input, path, error FROM executions"
                " WHERE status <> 'running' AND id > :after ORDER BY id LIMIT :n"
            ),
            {"after": after, "n": _BACKFILL_PAGE},
        ).all()
        if not rows:
            return
        params = []
        for row in rows:
            console = [
                str(orjson.loads(payload).get("text", ""))
                for (payload,) in bind.execute(
                    sa.text(
                        "SELECT payload FROM events WHERE execution_id = :id"
                        " AND type = 'console' ORDER BY seq"
                    ),
                    {"id": row.id},
                )
            ]
            body = _document(row, console)
            terms = " ".join(_WORD.findall(body.lower()))
            params.append({"id": row.id, "sid": row.session_id, "body": body, "terms": terms})
        if postgres:
            bind.execute(
                sa.text(
                    "INSERT INTO execution_search (execution_id, session_id, body, document)"
                    " VALUES (:id, :sid, :body, to_tsvector('simple', :terms))"
                ),
                params,
            )
        else:
            bind.execute(
                sa.text(
                    "INSERT INTO execution_search (execution_id, session_id, body)"
                    " VALUES (:id, :sid, :body)"
                ),
                params,
            )
        after = rows[-1].id


def downgrade() -> None:
    """Drop the search table (and on SQLite its FTS index and triggers)."""
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE execution_search_fts")
    op.drop_table("execution_search")
