"""Opening a store: ``--db`` as path or URL, migrations, schema version, closing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.pool import QueuePool

from vmsystem.store import Store, StoreError, open_store
from vmsystem.store.engine import resolve_url
from vmsystem.store.migrator import head_revision
from vmsystem.store.schema import metadata

from . import factories as f
from .conftest import is_sqlite


def test_open_store_accepts_a_plain_file_path(sqlite_path: Path) -> None:
    store = open_store(str(sqlite_path))
    try:
        assert store.url == f"sqlite:///{sqlite_path}"
        assert sqlite_path.is_file()
    finally:
        store.close()


def test_open_store_accepts_a_sqlite_url(sqlite_path: Path) -> None:
    store = open_store(f"sqlite:///{sqlite_path}")
    try:
        store.insert_template(f.template("via-url"))
        assert sqlite_path.is_file()
    finally:
        store.close()
    reopened = open_store(str(sqlite_path))
    try:
        assert reopened.get_template_by_name("via-url") is not None
    finally:
        reopened.close()


def test_relative_path_is_resolved_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store("relative.db")
    try:
        assert store.url == f"sqlite:///{tmp_path / 'relative.db'}"
    finally:
        store.close()
    assert (tmp_path / "relative.db").is_file()


@pytest.mark.parametrize("as_url", [False, True], ids=["path", "url"])
def test_missing_parent_directory_is_a_clear_error_and_is_not_created(
    tmp_path: Path, as_url: bool
) -> None:
    missing = tmp_path / "x" / "y"
    db = f"sqlite:///{missing / 'vm.db'}" if as_url else str(missing / "vm.db")
    with pytest.raises(StoreError) as info:
        open_store(db)
    assert str(info.value) == f"cannot open database: directory {missing} does not exist"
    assert not (tmp_path / "x").exists()


def test_in_memory_sqlite_is_refused() -> None:
    with pytest.raises(StoreError, match="in-memory"):
        open_store("sqlite://")


def test_invalid_url_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="invalid URL"):
        open_store("not a scheme://")


@pytest.mark.parametrize(
    "db", ["postgres://u:pw@db:5432/vm", "postgresql://u:pw@db/vm", "postgresql+psycopg://u@db/vm"]
)
def test_postgres_urls_use_psycopg_3(db: str) -> None:
    assert resolve_url(db).drivername == "postgresql+psycopg"


def test_unreachable_postgres_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="cannot open database"):
        open_store("postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2")


@pytest.mark.postgres
def test_store_url_hides_the_password(postgres_url: str) -> None:
    store = open_store(postgres_url)
    try:
        password = resolve_url(postgres_url).password
        assert password
        assert f":{password}@" not in store.url
        assert ":***@" in store.url
        assert store.url.startswith("postgresql+psycopg://")
    finally:
        store.close()


def test_schema_version_is_the_newest_alembic_revision(store: Store) -> None:
    assert store.schema_version() == head_revision() == "0010"


def test_migrated_schema_matches_the_table_metadata(engine: Engine) -> None:
    with engine.connect() as connection:
        # The search tables differ by backend (FTS5 / tsvector): migration 0002 owns them and
        # tests/store/test_search.py checks them.
        context = MigrationContext.configure(
            connection,
            opts={"include_name": lambda name, *_: not (name or "").startswith("execution_search")},
        )
        assert compare_metadata(context, metadata) == []


def test_migration_creates_every_table(engine: Engine) -> None:
    names = set(inspect(engine).get_table_names())
    assert names >= {
        "templates",
        "template_capabilities",
        "template_startup_files",
        "template_modules",
        "template_libraries",
        "sessions",
        "executions",
        "events",
        "alembic_version",
    }


def test_reopening_keeps_data_and_does_not_migrate_again(db_url: str) -> None:
    first = open_store(db_url)
    t = f.template("kept")
    first.insert_template(t)
    first.close()
    second = open_store(db_url)
    try:
        assert second.get_template(t.id) == t
        assert second.schema_version() == head_revision()
    finally:
        second.close()


def test_a_database_from_a_newer_version_is_refused_clearly(db_url: str) -> None:
    store = open_store(db_url)
    engine = store._db.engine
    store.close()
    set_version = text("UPDATE alembic_version SET version_num = :v")
    with engine.begin() as connection:
        connection.execute(set_version, {"v": "9999"})
    try:
        with pytest.raises(StoreError, match=r"cannot migrate database.*9999"):
            open_store(db_url)
    finally:
        with engine.begin() as connection:
            connection.execute(set_version, {"v": head_revision()})
        engine.dispose()


def test_a_file_that_is_not_a_database_is_refused_clearly(sqlite_path: Path) -> None:
    sqlite_path.write_bytes(b"this is not a SQLite database" * 100)
    with pytest.raises(StoreError, match="cannot open database"):
        open_store(str(sqlite_path))


def test_close_is_idempotent_and_later_calls_fail_clearly(store: Store) -> None:
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.get_template(f.new_id())
    with pytest.raises(StoreError, match="closed"):
        store.schema_version()


def test_sqlite_uses_a_queue_pool_not_a_singleton_pool(sqlite_path: Path) -> None:
    store = open_store(str(sqlite_path))
    try:
        pool = store._db.engine.pool
        assert isinstance(pool, QueuePool)
        assert pool.size() >= 4
    finally:
        store.close()


def test_database_file_is_in_wal_mode(store: Store) -> None:
    if not is_sqlite(store):
        pytest.skip("SQLite only")
    path = store.url.removeprefix("sqlite:///")
    with open(path, "rb") as fh:
        header = fh.read(20)
    # Bytes 18-19 of the header are the read/write format versions: 2 = WAL.
    assert header[18:20] == b"\x02\x02"
    assert os.path.exists(path + "-wal")
