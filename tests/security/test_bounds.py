"""Bounded inputs of a real daemon process: request heads (size and field count) refused with
431 before they are read whole, paths no file can have, and idempotency keys scoped across
routes."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Daemon
from tests.security.test_http import TOKEN, _session, _start

pytestmark = pytest.mark.e2e

HEAD_LIMIT = 16384


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """A daemon accepting request heads of at most 16 KiB and 20 header fields."""
    d = _start(
        tmp_path_factory.mktemp("bounds-daemon"),
        "--max-header-bytes",
        str(HEAD_LIMIT),
        "--max-header-count",
        "20",
    )
    yield d
    code, _ = d.terminate()
    assert code == 0, d.output()


def _answer(raw: socket.socket) -> bytes:
    """Everything the daemon sends until it closes the connection."""
    data = b""
    while chunk := raw.recv(65536):
        data += chunk
    return data


def test_an_endless_header_is_431_before_the_head_ends(daemon: Daemon) -> None:
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=30) as raw:
        raw.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        raw.sendall(b"a" * (HEAD_LIMIT + 1024))  # no end of line: the head is not over
        answer = _answer(raw)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b'"code":"HEADERS_TOO_LARGE"' in answer
    assert b"connection: close" in answer.lower()


def test_many_small_headers_over_the_size_limit_are_431(daemon: Daemon) -> None:
    headers = {f"X-Pad-{i}": "p" * 1000 for i in range(17)}
    with httpx.Client(base_url=daemon.api, timeout=30) as c:
        r = c.get("/health", headers=headers)
    assert r.status_code == 431
    assert r.json()["error"]["code"] == "HEADERS_TOO_LARGE"


def test_more_header_fields_than_allowed_are_431(daemon: Daemon) -> None:
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=30) as raw:
        fields = b"".join(b"X-F%d: 1\r\n" % i for i in range(25))
        raw.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + fields + b"\r\n")
        answer = _answer(raw)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]


def test_heads_within_the_limits_are_served_and_the_connection_kept(daemon: Daemon) -> None:
    headers = {"X-Pad": "p" * 8000, "Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=daemon.api, timeout=30) as c:
        for _ in range(3):  # keep-alive: each request's head is counted from zero
            r = c.get("/templates", headers=headers)
            assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "path",
    ["/assets/%00", "/%00", "/api/v1/sessions/%00", "/api/v1/executions/a%00b", "/x%00.js"],
)
def test_a_nul_byte_in_the_path_is_404(daemon: Daemon, path: str) -> None:
    with daemon.client() as c:
        r = c.get(daemon.url + path)
    assert r.status_code == 404, r.text
    assert r.json()["error"]["code"] == "ROUTE_NOT_FOUND"


def test_a_path_too_long_for_the_file_system_is_not_a_server_error(daemon: Daemon) -> None:
    with daemon.client() as c:
        r = c.get(daemon.url + "/assets/" + "a" * 5000 + ".js")
    assert r.status_code in (200, 404), r.text  # the UI's page (client routing) or not found


def test_an_idempotency_key_reused_on_another_route_is_422(daemon: Daemon, worktree: Path) -> None:
    with daemon.client() as c:
        session = _session(c, worktree)
        key = {"Idempotency-Key": "cross-route-key"}
        run = c.post(
            "/executions/repl", json={"session_id": session["id"], "input": "1"}, headers=key
        )
        assert run.status_code == 201, run.text
        before = len(c.get("/sessions").json())
        other = c.post(
            "/sessions",
            json={"template_id": session["template_id"], "worktree_path": str(worktree)},
            headers=key,
        )
        assert other.status_code == 422, other.text
        assert other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
        assert len(c.get("/sessions").json()) == before
