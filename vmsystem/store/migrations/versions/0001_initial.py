"""Initial schema: templates (+ capabilities, startup files, modules, libraries), sessions,
executions and events.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the column types (never import the live schema into a migration).
# Timestamps: integer microseconds since the epoch on SQLite, timestamptz on PostgreSQL.
TIMESTAMP = sa.BigInteger().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")
JSON = sa.Text()


def _template_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["template_id"], ["templates.id"], name=f"fk_{table}_template_id", ondelete="CASCADE"
    )


def upgrade() -> None:
    """Create every table."""
    op.create_table(
        "templates",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("engine", sa.Text(), nullable=False),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_templates"),
        sa.UniqueConstraint("name", name="uq_templates_name"),
    )
    op.create_index("ix_templates_created_at", "templates", ["created_at"])

    op.create_table(
        "template_capabilities",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("template_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("config", JSON, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_template_capabilities"),
        _template_fk("template_capabilities"),
        sa.UniqueConstraint(
            "template_id", "kind", "name", name="uq_template_capabilities_kind_name"
        ),
    )

    op.create_table(
        "template_startup_files",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("template_id", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("order_index", sa.Integer(), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_template_startup_files"),
        _template_fk("template_startup_files"),
        sa.UniqueConstraint("template_id", "path", name="uq_template_startup_files_path"),
    )

    for table in ("template_modules", "template_libraries"):
        op.create_table(
            table,
            sa.Column("template_id", sa.Text(), nullable=False),
            sa.Column("name", sa.Text(), nullable=False),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("template_id", "name", name=f"pk_{table}"),
            _template_fk(table),
        )

    op.create_table(
        "sessions",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("template_id", sa.Text(), nullable=True),
        sa.Column("origin_template_id", sa.Text(), nullable=False),
        sa.Column("workspace_id", sa.Text(), nullable=False),
        sa.Column("base_commit_oid", sa.Text(), nullable=False),
        sa.Column("worktree_path", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_activity_at", TIMESTAMP, nullable=False),
        sa.Column("closed_at", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("template_snapshot", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.ForeignKeyConstraint(
            ["template_id"], ["templates.id"], name="fk_sessions_template_id", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_sessions_template_id", "sessions", ["template_id"])
    op.create_index("ix_sessions_origin_template_id", "sessions", ["origin_template_id"])
    op.create_index("ix_sessions_status", "sessions", ["status"])
    op.create_index("ix_sessions_created_at", "sessions", ["created_at"])

    op.create_table(
        "executions",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("session_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("input", sa.Text(), nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("args", JSON, nullable=False),
        sa.Column("env", JSON, nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.Column("result", JSON, nullable=True),
        sa.Column("error", JSON, nullable=True),
        sa.Column("metrics", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_executions"),
        sa.ForeignKeyConstraint(
            ["session_id"], ["sessions.id"], name="fk_executions_session_id", ondelete="CASCADE"
        ),
    )
    op.create_index(
        "ix_executions_session_id_started_at", "executions", ["session_id", "started_at"]
    )
    op.create_index("ix_executions_status", "executions", ["status"])

    op.create_table(
        "events",
        sa.Column("execution_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("ts", TIMESTAMP, nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.PrimaryKeyConstraint("execution_id", "seq", name="pk_events"),
        sa.ForeignKeyConstraint(
            ["execution_id"], ["executions.id"], name="fk_events_execution_id", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    """Drop every table."""
    for table in (
        "events",
        "executions",
        "sessions",
        "template_libraries",
        "template_modules",
        "template_startup_files",
        "template_capabilities",
        "templates",
    ):
        op.drop_table(table)
