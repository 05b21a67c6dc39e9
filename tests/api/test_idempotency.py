"""Idempotency-Key on POST /executions/repl, /executions/run-file and /sessions, over the real
app and V8, on SQLite and on PostgreSQL (when ``VMSYSTEM_TEST_POSTGRES_URL`` is set)."""

from __future__ import annotations

import threading
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from .conftest import API, create_session, create_template
from .helpers import assert_envelope

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def api(backend_client: TestClient) -> TestClient:
    return backend_client


@pytest.fixture
def sid(api: TestClient, worktree: Path) -> str:
    return str(create_session(api, create_template(api, "idem")["id"], worktree)["id"])


def post(api: TestClient, path: str, body: dict[str, Any], key: str | None, **headers: str) -> Any:
    if key is not None:
        headers["Idempotency-Key"] = key
    return api.post(f"{API}{path}", json=body, headers=headers)


def count(api: TestClient, sid: str, kind: str = "repl") -> int:
    listed = api.get(f"{API}/executions", params={"session_id": sid}).json()
    return sum(1 for x in listed if x["kind"] == kind)


def test_same_key_and_body_runs_the_code_once_and_returns_the_first_execution(
    api: TestClient, sid: str
) -> None:
    body = {"session_id": sid, "input": "globalThis.n = (globalThis.n || 0) + 1; n"}
    first = post(api, "/executions/repl", body, "k-1")
    again = post(api, "/executions/repl", body, "k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert first.json()["result"]["json"] == 1
    assert count(api, sid) == 1
    # Without a key (or with another) it runs again.
    assert post(api, "/executions/repl", body, None).json()["result"]["json"] == 2
    assert post(api, "/executions/repl", body, "k-2").json()["result"]["json"] == 3


def test_key_order_and_whitespace_of_the_body_do_not_matter(api: TestClient, sid: str) -> None:
    first = api.post(
        f"{API}/executions/repl",
        content=f'{{"session_id": "{sid}", "input": "1"}}',
        headers={"Idempotency-Key": "order", "Content-Type": "application/json"},
    )
    again = api.post(
        f"{API}/executions/repl",
        content=f'{{"input":"1","session_id":"{sid}"}}',
        headers={"Idempotency-Key": "order", "Content-Type": "application/json"},
    )
    assert again.json()["id"] == first.json()["id"]


def test_same_key_with_another_body_or_route_is_key_reused(api: TestClient, sid: str) -> None:
    post(api, "/executions/repl", {"session_id": sid, "input": "1"}, "k-reuse")
    other = post(api, "/executions/repl", {"session_id": sid, "input": "2"}, "k-reuse")
    error = assert_envelope(other, 422, "IDEMPOTENCY_KEY_REUSED")
    assert error["details"]["idempotency_key"] == "k-reuse"
    query = api.post(
        f"{API}/executions/repl?wait=false",
        json={"session_id": sid, "input": "1"},
        headers={"Idempotency-Key": "k-reuse"},
    )
    assert_envelope(query, 422, "IDEMPOTENCY_KEY_REUSED")
    assert count(api, sid) == 1


def test_a_duplicate_while_the_first_runs_is_in_progress_or_waits(
    api: TestClient, sid: str
) -> None:
    body = {
        "session_id": sid,
        "input": "const t = Date.now(); while (Date.now() - t < 700) {} 'slow'",
    }
    answers: dict[str, Any] = {}
    thread = threading.Thread(
        target=lambda: answers.setdefault("first", post(api, "/executions/repl", body, "k-slow"))
    )
    thread.start()
    time.sleep(0.25)
    busy = post(api, "/executions/repl", body, "k-slow")
    assert_envelope(busy, 409, "IDEMPOTENCY_IN_PROGRESS")
    waited = post(api, "/executions/repl", body, "k-slow", Prefer="wait=10")
    thread.join()
    assert waited.status_code == 201
    assert waited.json() == answers["first"].json()
    assert waited.json()["result"]["json"] == "slow"
    assert count(api, sid) == 1


def test_a_first_request_that_created_nothing_leaves_the_key_free(
    api: TestClient, sid: str
) -> None:
    missing = post(api, "/executions/run-file", {"session_id": sid, "path": "no.js"}, "k-file")
    assert_envelope(missing, 404, "FILE_NOT_FOUND")
    api.post(f"{API}/sessions/{sid}/close")
    closed = post(api, "/executions/repl", {"session_id": sid, "input": "1"}, "k-closed")
    assert_envelope(closed, 409, "SESSION_NOT_READY")
    assert count(api, sid, "run_file") == 0


def test_run_file_is_idempotent(api: TestClient, sid: str, worktree: Path) -> None:
    (worktree / "count.js").write_text("globalThis.c = (globalThis.c || 0) + 1; c")
    body = {"session_id": sid, "path": "count.js"}
    first = post(api, "/executions/run-file", body, "k-run")
    again = post(api, "/executions/run-file", body, "k-run")
    assert again.json() == first.json() and again.json()["result"]["json"] == 1
    assert count(api, sid, "run_file") == 1


def test_an_asynchronous_first_answer_is_replayed_as_202(api: TestClient, sid: str) -> None:
    body = {"session_id": sid, "input": "40 + 2", "stream": True}
    first = post(api, "/executions/repl", body, "k-async")
    assert first.status_code == 202
    again = post(api, "/executions/repl", body, "k-async", Prefer="wait=5")
    assert again.status_code == 202 and again.json()["id"] == first.json()["id"]


def test_session_create_is_idempotent(api: TestClient, worktree: Path) -> None:
    template = create_template(api, "idem-sessions")
    body = {"template_id": template["id"], "worktree_path": str(worktree)}
    first = post(api, "/sessions", body, "k-session")
    again = post(api, "/sessions", body, "k-session")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    listed = api.get(f"{API}/sessions", params={"template_id": template["id"]}).json()
    assert [s["id"] for s in listed] == [first.json()["id"]]
    other = post(api, "/sessions", {**body, "workspace_id": "other"}, "k-session")
    assert_envelope(other, 422, "IDEMPOTENCY_KEY_REUSED")


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "tab\tkey"])
def test_a_malformed_key_is_a_validation_error(api: TestClient, sid: str, key: str) -> None:
    r = api.post(
        f"{API}/executions/repl",
        json={"session_id": sid, "input": "1"},
        headers={"Idempotency-Key": key.encode("utf-8")},
    )
    assert_envelope(r, 400, "VALIDATION_ERROR")
    assert count(api, sid) == 0
