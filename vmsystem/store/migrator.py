"""Alembic migrations, run programmatically (no ``alembic.ini``): upgrade and current revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from vmsystem.store.engine import BEGIN_MODE

__all__ = ["MIGRATIONS_DIR", "alembic_config", "current_revision", "head_revision", "upgrade"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

#: Arbitrary key of the PostgreSQL advisory lock that serialises concurrent migrators.
_PG_MIGRATION_LOCK = 0x766D5F73


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migrations (built in code, no ini file)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest revision shipped with this version of vm-system."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest revision, in one transaction.

    On SQLite the transaction takes the write lock up front (``BEGIN IMMEDIATE``) and on
    PostgreSQL an advisory lock, so concurrent openers wait for each other.
    """
    config = alembic_config()
    with engine.connect() as connection:
        connection.execution_options(**{BEGIN_MODE: "IMMEDIATE"})
        with connection.begin():
            if engine.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, "head")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` if it was never migrated)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
