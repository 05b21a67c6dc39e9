"""Fixtures of the store contract suite: every test using ``store`` runs on SQLite (always) and
on PostgreSQL when ``VMSYSTEM_TEST_POSTGRES_URL`` is set (one fresh schema per test run,
tables emptied between tests). Start a local server with ``scripts/start-test-postgres.sh``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, text

from vmsystem.store import Store, open_store
from vmsystem.store.engine import resolve_url
from vmsystem.store.schema import metadata

POSTGRES_URL_ENV = "VMSYSTEM_TEST_POSTGRES_URL"

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A URL whose connections use a fresh schema (dropped at the end of the test run)."""
    base = os.environ.get(POSTGRES_URL_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set")
    schema = f"vmtest_{uuid.uuid4().hex[:12]}"
    admin = create_engine(resolve_url(base))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = resolve_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _empty_tables(engine: Engine) -> None:
    """Delete every row (DELETE, not TRUNCATE: far cheaper on tiny tables)."""
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    """An engine on the test schema, for emptying tables between tests."""
    engine = create_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The ``--db`` value of a fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield str(tmp_path / "vm-system.db")
        return
    url: str = request.getfixturevalue("postgres_url")
    engine: Engine = request.getfixturevalue("postgres_engine")
    yield url
    if inspect(engine).has_table("events"):
        _empty_tables(engine)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """An open, migrated store (closed after the test)."""
    s = open_store(db_url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def engine(store: Store) -> Engine:
    """The store's engine, for checks below the public API (schema, constraints)."""
    return store._db.engine


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    """A path for a SQLite database in an existing directory."""
    return tmp_path / "vm-system.db"


def is_sqlite(store: Store) -> bool:
    """Whether the store runs on SQLite."""
    return store.url.startswith("sqlite")
