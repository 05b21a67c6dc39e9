"""In-process API fixtures: the real app over a real SQLite store and the real V8 engine."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # Starlette suggests httpx2 for its TestClient; httpx is what the project ships with.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from tests.conftest import postgres_schema
from vmsystem.api import create_app
from vmsystem.core import VmSystem, open_system

from .helpers import assert_timestamps, check_request_id

API = "/api/v1"
#: A loopback Host (the daemon serves no other by default) and the header the SDK sends on
#: every request (state-changing requests without JSON or it are refused as cross-site).
CLIENT_OPTIONS: dict[str, Any] = {
    "base_url": "http://localhost",
    "headers": {"X-Requested-With": "tests"},
}
ClientFactory = Callable[..., TestClient]


def _check_timestamps(response: Any) -> None:
    if response.request.method != "HEAD" and response.headers.get("content-type", "").startswith(
        "application/json"
    ):
        response.read()
        assert_timestamps(response.json())


@pytest.fixture
def make_client(vm: VmSystem) -> Iterator[ClientFactory]:
    """Build clients over ``create_app(vm, **options)``; every response they get is checked
    for ``X-Request-Id`` and well-formed timestamps."""
    opened: list[TestClient] = []

    def make(**options: Any) -> TestClient:
        app = create_app(vm, close_on_shutdown=False, **options)
        client = TestClient(app, raise_server_exceptions=False, **CLIENT_OPTIONS)
        client.__enter__()
        client.event_hooks = {"response": [check_request_id, _check_timestamps]}
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    """A client of the default app (no auth, no CORS, 1 MiB bodies)."""
    return make_client()


@pytest.fixture(scope="module")
def shared_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One client (and system) per module, for requests that must not change any state."""
    from vmsystem.core import open_system

    root = tmp_path_factory.mktemp("shared")
    system = open_system(str(root / "vm.db"), cache_dir=root / "cache")
    client = TestClient(create_app(system), raise_server_exceptions=False, **CLIENT_OPTIONS)
    client.__enter__()
    client.event_hooks = {"response": [check_request_id, _check_timestamps]}
    yield client
    client.__exit__(None, None, None)
    system.close()


@pytest.fixture(scope="module")
def shared_template(shared_client: TestClient) -> dict[str, Any]:
    """A template in the shared system."""
    return create_template(shared_client, "shared-tpl")


def create_template(client: TestClient, name: str = "tpl", **body: Any) -> dict[str, Any]:
    """POST /templates (201) and return the template."""
    r = client.post(f"{API}/templates", json={"name": name, **body})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def patch_limits(client: TestClient, template_id: str, **limits: int) -> dict[str, Any]:
    """PATCH the template's limits (200) and return the template."""
    r = client.patch(f"{API}/templates/{template_id}", json={"settings": {"limits": limits}})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def create_session(
    client: TestClient, template_id: str, worktree: Path, **body: Any
) -> dict[str, Any]:
    """POST /sessions (201) and return the session."""
    r = client.post(
        f"{API}/sessions",
        json={"template_id": template_id, "worktree_path": str(worktree), **body},
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def repl(
    client: TestClient, session_id: str, code: str, status: int = 201, **body: Any
) -> dict[str, Any]:
    """POST /executions/repl expecting ``status``; returns the body."""
    r = client.post(
        f"{API}/executions/repl", json={"session_id": session_id, "input": code, **body}
    )
    assert r.status_code == status, r.text
    return r.json()  # type: ignore[no-any-return]


def events(client: TestClient, execution_id: str, **params: Any) -> list[dict[str, Any]]:
    """GET /executions/{id}/events (200)."""
    r = client.get(f"{API}/executions/{execution_id}/events", params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.fixture
def template(client: TestClient) -> dict[str, Any]:
    """A template with default settings."""
    return create_template(client, "default-tpl")


@pytest.fixture
def session(client: TestClient, template: dict[str, Any], worktree: Path) -> dict[str, Any]:
    """A ready session of ``template`` in ``worktree``."""
    return create_session(client, template["id"], worktree)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database on SQLite, and on PostgreSQL when ``VMSYSTEM_TEST_POSTGRES_URL`` is set
    (a schema of its own, dropped after the test)."""
    if request.param == "sqlite":
        yield str(tmp_path / "vm.db")
        return
    with postgres_schema("vmsearch") as url:
        yield url


@pytest.fixture
def backend_client(backend_db: str, cache_dir: Path) -> Iterator[TestClient]:
    """A client of the real app over ``backend_db``: tests using it run on both backends."""
    system = open_system(backend_db, cache_dir=cache_dir)
    client = TestClient(create_app(system), raise_server_exceptions=False, **CLIENT_OPTIONS)
    client.__enter__()
    client.event_hooks = {"response": [check_request_id]}
    try:
        yield client
    finally:
        client.__exit__(None, None, None)
        system.close()
