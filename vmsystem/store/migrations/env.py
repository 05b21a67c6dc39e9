"""Alembic environment of the store.

Always run programmatically (``vmsystem.store.migrator``): the caller passes an open
connection in ``config.attributes["connection"]`` and owns its transaction.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection


def run_migrations() -> None:
    """Run the pending migrations on the connection handed over by the caller."""
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError(
            "vm-system migrations run programmatically: use vmsystem.store.open_store()"
        )
    context.configure(connection=connection, target_metadata=None, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
