"""Per-connection guarantees: foreign keys everywhere, SQLite pragmas, savepoints, threads."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import IntegrityError

from vmsystem.store import ForeignKeyViolation, Store, Template, open_store
from vmsystem.store.schema import templates

from . import factories as f
from .conftest import is_sqlite

CONNECTIONS = 12


def test_foreign_keys_are_enforced_on_every_pooled_connection(store: Store, engine: Engine) -> None:
    # Hold many connections at once so the pool has to open distinct ones.
    connections = [engine.connect() for _ in range(CONNECTIONS)]
    try:
        for connection in connections:
            with pytest.raises(IntegrityError), connection.begin():
                connection.execute(
                    text(
                        "INSERT INTO template_modules (template_id, name, position) "
                        "VALUES ('no-such-template', 'fs', 0)"
                    )
                )
    finally:
        for connection in connections:
            connection.close()


def test_foreign_keys_are_enforced_from_many_threads(store: Store) -> None:
    barrier = threading.Barrier(CONNECTIONS)

    def attempt(_: int) -> str:
        barrier.wait(timeout=10)
        try:
            store.insert_capability(f.capability(f.new_id()))
        except ForeignKeyViolation:
            return "refused"
        return "accepted"

    with ThreadPoolExecutor(CONNECTIONS) as pool:
        outcomes = list(pool.map(attempt, range(CONNECTIONS)))
    assert outcomes == ["refused"] * CONNECTIONS


def test_every_sqlite_connection_gets_wal_foreign_keys_busy_timeout_and_normal_sync(
    store: Store, engine: Engine
) -> None:
    if not is_sqlite(store):
        pytest.skip("SQLite only")
    connections = [engine.connect() for _ in range(CONNECTIONS)]
    try:
        for connection in connections:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
            # The checkpointer thread checkpoints; a COMMIT never does.
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    finally:
        for connection in connections:
            connection.close()


def test_savepoint_rollback_undoes_only_the_nested_part(store: Store, engine: Engine) -> None:
    kept, undone = f.template("kept"), f.template("undone")
    with engine.connect() as connection, connection.begin():
        connection.execute(insert(templates), _row(kept))
        nested = connection.begin_nested()
        connection.execute(insert(templates), _row(undone))
        nested.rollback()
    assert store.get_template(kept.id) is not None
    assert store.get_template(undone.id) is None


def test_outer_rollback_undoes_a_released_savepoint(store: Store, engine: Engine) -> None:
    t = f.template("inside-savepoint")
    with engine.connect() as connection:
        outer = connection.begin()
        with connection.begin_nested():
            connection.execute(insert(templates), _row(t))
        outer.rollback()
    assert store.get_template(t.id) is None


def test_readers_are_not_blocked_by_an_open_write_transaction(store: Store, engine: Engine) -> None:
    t = f.template("visible")
    store.insert_template(t)
    with engine.connect() as writer, writer.begin():
        writer.execute(insert(templates), _row(f.template("pending")))
        # Another thread reads while the write transaction is open (WAL on SQLite, MVCC on PG).
        with ThreadPoolExecutor(1) as pool:
            names = pool.submit(lambda: [x.name for x in store.list_templates()]).result(5)
    assert names == ["visible"]


def test_concurrent_template_writes_from_threads_all_succeed(store: Store) -> None:
    items = [f.template(f"t{i}") for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(store.insert_template, items))
    assert {t.name for t in store.list_templates()} == {t.name for t in items}


def test_a_second_store_on_the_same_sqlite_file_sees_committed_data(sqlite_path: Path) -> None:
    first, second = open_store(str(sqlite_path)), open_store(str(sqlite_path))
    try:
        t = f.template("shared")
        first.insert_template(t)
        assert second.get_template(t.id) == t
    finally:
        first.close()
        second.close()


def _row(t: Template) -> dict[str, object]:
    return {
        "id": t.id,
        "name": t.name,
        "engine": t.engine,
        "settings": t.settings.to_dict(),
        "created_at": t.created_at,
        "updated_at": t.updated_at,
    }


def test_rows_written_below_the_api_read_back_identically(store: Store, engine: Engine) -> None:
    t = f.template("raw")
    with engine.begin() as connection:
        connection.execute(insert(templates), _row(t))
    with engine.connect() as connection:
        row = connection.execute(select(templates).where(templates.c.id == t.id)).one()
    assert (row.created_at, row.settings) == (t.created_at, t.settings.to_dict())
