"""Execution ordinals: numbered per session by the migration's backfill (both backends)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from vmsystem.store import InsertExecution, open_store
from vmsystem.store.migrator import alembic_config

from . import factories as f


def test_the_migration_numbers_existing_executions_in_their_old_order(db_url: str) -> None:
    store = open_store(db_url)
    try:
        t = f.template()
        store.insert_template(t)
        one, two = f.session(t.id), f.session(t.id)
        store.insert_session(one)
        store.insert_session(two)
        # Inserted out of time order; before ordinals, history was (started_at, id).
        made = [
            f.execution(one.id, started=3),
            f.execution(two.id, started=1),
            f.execution(one.id, started=1),
            f.execution(one.id, started=2),
        ]
        for e in made:
            store.write(InsertExecution(e))
        config = alembic_config()
        with store._db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0005")
            columns = connection.execute(text("SELECT * FROM executions")).keys()
            assert "ordinal" not in columns
    finally:
        store.close()
    reopened = open_store(db_url)  # upgrades again, numbering what is there
    try:
        assert [e.id for e in reopened.list_executions(one.id)] == [
            made[0].id,
            made[3].id,
            made[2].id,
        ]
        assert [e.ordinal for e in reopened.list_executions(one.id)] == [3, 2, 1]
        assert [e.ordinal for e in reopened.list_executions(two.id)] == [1]
        later = f.execution(one.id)
        assert reopened.write(InsertExecution(later)) == {later.id: 4}
    finally:
        reopened.close()
