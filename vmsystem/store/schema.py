"""The tables, as SQLAlchemy Core metadata (the migrations create them; this describes them).

Keep this in step with ``migrations/versions``; ``tests/store`` checks that a migrated
database matches this metadata.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from vmsystem.store.sqltypes import JsonText, UtcDateTime

__all__ = [
    "daemons",
    "events",
    "executions",
    "idempotency_keys",
    "metadata",
    "sessions",
    "template_capabilities",
    "template_libraries",
    "template_modules",
    "template_startup_files",
    "templates",
]

metadata = MetaData()

templates = Table(
    "templates",
    metadata,
    Column("id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("engine", Text, nullable=False),
    Column("settings", JsonText, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # Every change adds one (migration 0003).
    Column("revision", Integer, nullable=False, server_default=text("1")),
    PrimaryKeyConstraint("id", name="pk_templates"),
    UniqueConstraint("name", name="uq_templates_name"),
    Index("ix_templates_created_at", "created_at"),
)

template_capabilities = Table(
    "template_capabilities",
    metadata,
    Column("id", Text, nullable=False),
    Column(
        "template_id",
        Text,
        ForeignKey("templates.id", ondelete="CASCADE", name="fk_template_capabilities_template_id"),
        nullable=False,
    ),
    Column("kind", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("config", JsonText, nullable=False),
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("id", name="pk_template_capabilities"),
    UniqueConstraint("template_id", "kind", "name", name="uq_template_capabilities_kind_name"),
)

template_startup_files = Table(
    "template_startup_files",
    metadata,
    Column("id", Text, nullable=False),
    Column(
        "template_id",
        Text,
        ForeignKey(
            "templates.id", ondelete="CASCADE", name="fk_template_startup_files_template_id"
        ),
        nullable=False,
    ),
    Column("path", Text, nullable=False),
    Column("order_index", Integer, nullable=False),
    Column("mode", Text, nullable=False),
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("id", name="pk_template_startup_files"),
    UniqueConstraint("template_id", "path", name="uq_template_startup_files_path"),
)

template_modules = Table(
    "template_modules",
    metadata,
    Column(
        "template_id",
        Text,
        ForeignKey("templates.id", ondelete="CASCADE", name="fk_template_modules_template_id"),
        nullable=False,
    ),
    Column("name", Text, nullable=False),
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("template_id", "name", name="pk_template_modules"),
)

template_libraries = Table(
    "template_libraries",
    metadata,
    Column(
        "template_id",
        Text,
        ForeignKey("templates.id", ondelete="CASCADE", name="fk_template_libraries_template_id"),
        nullable=False,
    ),
    Column("name", Text, nullable=False),
    Column("position", Integer, nullable=False),
    PrimaryKeyConstraint("template_id", "name", name="pk_template_libraries"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Text, nullable=False),
    Column(
        "template_id",
        Text,
        ForeignKey("templates.id", ondelete="SET NULL", name="fk_sessions_template_id"),
        nullable=True,
    ),
    # The template the session was created from, kept after that template is deleted
    # (``template_id`` above then becomes NULL; it only exists for the foreign key).
    Column("origin_template_id", Text, nullable=False),
    Column("workspace_id", Text, nullable=False),
    Column("base_commit_oid", Text, nullable=False),
    Column("worktree_path", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_activity_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("template_snapshot", JsonText, nullable=False),
    # A worktree the daemon created (and removes at purge, or after the retention: then
    # ``worktree_removed_at`` says when).
    Column("worktree_managed", Boolean, nullable=False, server_default=false()),
    Column("worktree_removed_at", UtcDateTime, nullable=True),
    # When the session was last rebuilt by replay after its runtime was lost, and how often.
    Column("recovered_at", UtcDateTime, nullable=True),
    Column("recovery_count", Integer, nullable=False, server_default=text("0")),
    # Seconds without activity after which the session is closed (0: never; NULL: the
    # daemon's --session-idle-timeout).
    Column("idle_timeout_s", Float, nullable=True),
    # The daemon holding the session's runtime (migration 0010; NULL: written before it).
    Column("daemon_id", Text, nullable=True),
    PrimaryKeyConstraint("id", name="pk_sessions"),
    Index("ix_sessions_template_id", "template_id"),
    Index("ix_sessions_origin_template_id", "origin_template_id"),
    Index("ix_sessions_status", "status"),
    Index("ix_sessions_created_at", "created_at"),
    Index("ix_sessions_daemon_id", "daemon_id"),
)

executions = Table(
    "executions",
    metadata,
    Column("id", Text, nullable=False),
    Column(
        "session_id",
        Text,
        ForeignKey("sessions.id", ondelete="CASCADE", name="fk_executions_session_id"),
        nullable=False,
    ),
    Column("kind", Text, nullable=False),
    Column("input", Text, nullable=True),
    Column("path", Text, nullable=True),
    Column("args", JsonText, nullable=False),
    Column("env", JsonText, nullable=False),
    Column("status", Text, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("result", JsonText, nullable=True),
    Column("error", JsonText, nullable=True),
    Column("metrics", JsonText, nullable=False),
    Column("provenance", JsonText, nullable=True),
    Column("replay_of", Text, nullable=True),
    # The execution's position in its session (1, 2, 3...), assigned in the insert's
    # transaction (migration 0006): the order of history, exports and session streams.
    Column("ordinal", Integer, nullable=False, server_default=text("0")),
    # The daemon running (or that ran) the execution (migration 0010).
    Column("daemon_id", Text, nullable=True),
    PrimaryKeyConstraint("id", name="pk_executions"),
    Index("uq_executions_session_id_ordinal", "session_id", "ordinal", unique=True),
    Index("ix_executions_session_id_started_at", "session_id", "started_at"),
    Index("ix_executions_status", "status"),
    Index("ix_executions_daemon_id", "daemon_id"),
)

events = Table(
    "events",
    metadata,
    Column(
        "execution_id",
        Text,
        ForeignKey("executions.id", ondelete="CASCADE", name="fk_events_execution_id"),
        nullable=False,
    ),
    Column("seq", Integer, nullable=False),
    Column("ts", UtcDateTime, nullable=False),
    Column("type", Text, nullable=False),
    Column("payload", JsonText, nullable=False),
    PrimaryKeyConstraint("execution_id", "seq", name="pk_events"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    # The route (``POST /api/v1/executions/repl``) and the client's key.
    Column("scope", Text, nullable=False),
    Column("key", Text, nullable=False),
    # sha256 of the request (route, query, canonical JSON body): a reuse must match it.
    Column("fingerprint", Text, nullable=False),
    # The execution or session the first request creates (its id is chosen up front).
    Column("resource_id", Text, nullable=False),
    Column("status", Text, nullable=False),  # in_progress | done
    Column("response_status", Integer, nullable=True),
    # The daemon instance carrying the request out (a key left by a dead one is taken over).
    Column("owner", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("scope", "key", name="pk_idempotency_keys"),
    Index("ix_idempotency_keys_expires_at", "expires_at"),
)

daemons = Table(
    "daemons",
    metadata,
    # One row per running daemon (its lease): registered at start, ``heartbeat_at`` renewed
    # while it runs, deleted at a clean shutdown or by the daemon that finds it expired.
    Column("id", Text, nullable=False),
    Column("address", Text, nullable=True),  # where its API listens, as configured
    Column("version", Text, nullable=False),
    Column("hostname", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("heartbeat_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("id", name="pk_daemons"),
)
