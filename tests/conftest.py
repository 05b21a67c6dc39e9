"""Fixtures shared by every layer: a real SQLite store, the real V8 engine, a worktree."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from vmsystem.core import VmSystem, open_system


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    """An empty worktree directory."""
    path = tmp_path / "worktree"
    path.mkdir()
    return path


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    """An empty library cache."""
    path = tmp_path / "cache"
    path.mkdir()
    return path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test's SQLite database lives."""
    return tmp_path / "vm.db"


@pytest.fixture
def vm(db_path: Path, cache_dir: Path) -> Iterator[VmSystem]:
    """A complete in-process vm-system on a fresh SQLite database."""
    system = open_system(
        str(db_path), cache_dir=cache_dir, worktrees_dir=db_path.parent / "worktrees"
    )
    try:
        yield system
    finally:
        system.close()


def ray_available() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[str]:
    """A real local Ray cluster on loopback (small: 2 CPUs, no dashboard), for the session."""
    if not ray_available():
        pytest.fail("ray is not installed (pip install -e '.[dev]')")
    from vmsystem.hosts.ray import start_local_cluster

    address, stop = start_local_cluster(num_cpus=2)
    try:
        yield address
    finally:
        stop()


@contextmanager
def postgres_schema(prefix: str = "vmtest") -> Iterator[str]:
    """A URL of the suite's PostgreSQL server (``VMSYSTEM_TEST_POSTGRES_URL``) whose
    connections use a fresh schema, dropped afterwards; skips the test without the server."""
    from sqlalchemy import create_engine, text

    from vmsystem.store.engine import resolve_url

    base = os.environ.get("VMSYSTEM_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("VMSYSTEM_TEST_POSTGRES_URL is not set")
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(resolve_url(base))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = resolve_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
