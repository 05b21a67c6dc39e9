"""The error contract: every code of docs/errors.md, produced by a real request, in the one
envelope ``{"error": {code, message, details?}}``."""

from __future__ import annotations

import io
import json
import re
import tarfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from vmsystem.core import VmSystem

from .conftest import API, TestClient, create_session, create_template, patch_limits, repl
from .helpers import UNKNOWN_ID, assert_envelope, wait_for

DOCS = Path(__file__).resolve().parents[2] / "docs"
F = TypeVar("F", bound=Callable[..., Any])
PRODUCED: dict[str, list[str]] = {}


def produces(*codes: str) -> Callable[[F], F]:
    """Record that the decorated test produces these codes with a real request."""

    def mark(test: F) -> F:
        for code in codes:
            PRODUCED.setdefault(code, []).append(test.__name__)
        return test

    return mark


def test_every_documented_error_code_is_produced_by_a_test_in_this_module() -> None:
    text = (DOCS / "errors.md").read_text(encoding="utf-8")
    table = text.split("## Execution outcome codes")[0]
    documented = set(re.findall(r"^\| `([A-Z_]+)` \| \d{3} \|", table, flags=re.M))
    assert documented, "docs/errors.md has no code table"
    assert documented == set(PRODUCED)


# ---------------------------------------------------------------------------- 400


@produces("INVALID_REQUEST")
@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b'{"name": "a", "colour": "red"}', "unknown field"),
        (b'{"name": ', "malformed JSON"),
        (b'{"name": 12}', "wrong type"),
        (b'["name"]', "not an object"),
        (b"", "empty body"),
    ],
)
def test_bad_template_body_is_invalid_request(client: TestClient, content: bytes, why: str) -> None:
    r = client.post(
        f"{API}/templates", content=content, headers={"content-type": "application/json"}
    )
    assert_envelope(r, 400, "INVALID_REQUEST")


def test_unknown_field_is_named_in_the_message(client: TestClient) -> None:
    r = client.post(f"{API}/templates", json={"name": "a", "colour": "red"})
    assert "colour" in assert_envelope(r, 400, "INVALID_REQUEST")["message"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/executions/repl", {"session_id": UNKNOWN_ID, "input": "1", "extra": True}),
        ("/executions/repl", {"session_id": UNKNOWN_ID, "input": 1}),
        ("/executions/repl", {"session_id": UNKNOWN_ID, "input": "1", "stream": "yes"}),
        ("/executions/run-file", {"session_id": UNKNOWN_ID, "path": "a.js", "args": [1]}),
        ("/executions/run-file", {"session_id": UNKNOWN_ID, "path": "a.js", "env": "X=1"}),
        ("/sessions", {"template_id": UNKNOWN_ID, "worktree_path": "/tmp", "name": "x"}),
        ("/sessions", {"template_id": UNKNOWN_ID, "worktree_path": 5}),
    ],
)
def test_unknown_or_mistyped_fields_in_execution_and_session_bodies_are_invalid_request(
    shared_client: TestClient, path: str, body: dict[str, Any]
) -> None:
    assert_envelope(shared_client.post(f"{API}{path}", json=body), 400, "INVALID_REQUEST")


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"", "application/json", "request body is required"),
        (b'{"session_id": ', "application/json", "request body is not valid JSON: Expecting"),
        (b'{"session_id": "a", "input": "\xff"}', "application/json", "is not UTF-8"),
        (b"[1]", "application/json", "request body must be a JSON object"),
        (b'"text"', "application/vnd.api+json", "request body must be a JSON object"),
        (b'{"session_id": "a", "input": "1"}', "text/plain", "request body must be a JSON object"),
        (b'{"session_id": "a", "input": "1"}', None, "request body must be a JSON object"),
        (b'{"session_id": "a", "input": "\\ud800"}', "application/json", "lone surrogate"),
    ],
)
@pytest.mark.parametrize("route", ["/executions/repl", "/executions/run-file"])
def test_hand_read_execution_bodies_are_refused_with_a_clear_invalid_request(
    shared_client: TestClient, route: str, content: bytes, content_type: str | None, message: str
) -> None:
    if route.endswith("run-file"):
        content = content.replace(b'"input"', b'"path"')
    headers = {"content-type": content_type} if content_type else {}
    r = shared_client.post(f"{API}{route}", content=content, headers=headers)
    assert message in assert_envelope(r, 400, "INVALID_REQUEST")["message"]


def test_invalid_json_on_a_framework_read_body_names_the_reason(client: TestClient) -> None:
    r = client.post(
        f"{API}/templates", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert assert_envelope(r, 400, "INVALID_REQUEST")["message"].startswith(
        "request body is not valid JSON: Expecting value"
    )


@pytest.mark.parametrize("wait", ["maybe", "2", ""])
def test_a_wait_flag_that_is_not_a_boolean_is_validation_error(
    shared_client: TestClient, wait: str
) -> None:
    r = shared_client.post(
        f"{API}/executions/repl?wait={wait}", json={"session_id": UNKNOWN_ID, "input": "1"}
    )
    assert assert_envelope(r, 400, "VALIDATION_ERROR")["details"] == {"field": "query.wait"}


@pytest.mark.parametrize("field", ["enabled", "config"])
def test_mistyped_capability_fields_are_invalid_request(
    client: TestClient, template: dict[str, Any], field: str
) -> None:
    body: dict[str, Any] = {"kind": "fs", "name": "write", field: "not-the-right-type"}
    r = client.post(f"{API}/templates/{template['id']}/capabilities", json=body)
    assert_envelope(r, 400, "INVALID_REQUEST")


@produces("VALIDATION_ERROR")
@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "   "}])
def test_missing_or_empty_template_name_is_validation_error(
    client: TestClient, body: dict[str, Any]
) -> None:
    r = client.post(f"{API}/templates", json=body)
    assert "name" in assert_envelope(r, 400, "VALIDATION_ERROR")["message"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/executions/repl", {"session_id": UNKNOWN_ID}),
        ("/executions/repl", {"input": "1"}),
        ("/executions/repl", {"session_id": UNKNOWN_ID, "input": ""}),
        ("/executions/run-file", {"session_id": UNKNOWN_ID}),
        ("/sessions", {"worktree_path": "/tmp"}),
        ("/sessions", {"template_id": ""}),
    ],
)
def test_missing_required_fields_are_validation_error(
    shared_client: TestClient, path: str, body: dict[str, Any]
) -> None:
    assert_envelope(shared_client.post(f"{API}{path}", json=body), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("kind_or_name", ["kind", "name"])
def test_capability_without_kind_or_name_is_validation_error(
    client: TestClient, template: dict[str, Any], kind_or_name: str
) -> None:
    body = {"kind": "fs", "name": "write"}
    del body[kind_or_name]
    r = client.post(f"{API}/templates/{template['id']}/capabilities", json=body)
    assert_envelope(r, 400, "VALIDATION_ERROR")


BAD_IDS = ["not-a-uuid", "1234", "00000000-0000-4000-8000-00000000000g"]
T = "{tid}"
ROUTES_WITH_IDS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/templates/{bad}", None),
    ("PATCH", "/templates/{bad}", {"name": "renamed"}),
    ("DELETE", "/templates/{bad}", None),
    ("GET", "/templates/{bad}/capabilities", None),
    ("POST", "/templates/{bad}/capabilities", {"kind": "fs", "name": "write"}),
    ("DELETE", "/templates/{bad}/capabilities/" + UNKNOWN_ID, None),
    ("DELETE", "/templates/" + T + "/capabilities/{bad}", None),
    ("GET", "/templates/{bad}/modules", None),
    ("POST", "/templates/{bad}/modules", {"name": "fs"}),
    ("DELETE", "/templates/{bad}/modules/fs", None),
    ("GET", "/templates/{bad}/libraries", None),
    ("POST", "/templates/{bad}/libraries", {"name": "lodash"}),
    ("DELETE", "/templates/{bad}/libraries/lodash", None),
    ("GET", "/templates/{bad}/startup-files", None),
    ("POST", "/templates/{bad}/startup-files", {"path": "a.js"}),
    ("DELETE", "/templates/{bad}/startup-files/" + UNKNOWN_ID, None),
    ("DELETE", "/templates/" + T + "/startup-files/{bad}", None),
    ("GET", "/sessions/{bad}", None),
    ("POST", "/sessions/{bad}/close", None),
    ("DELETE", "/sessions/{bad}", None),
    ("GET", "/sessions/{bad}/events/stream", None),
    ("GET", "/executions/{bad}", None),
    ("POST", "/executions/{bad}/cancel", None),
    ("GET", "/executions/{bad}/events", None),
    ("GET", "/executions/{bad}/events/stream", None),
    ("GET", "/executions?session_id={bad}", None),
    ("GET", "/sessions?template_id={bad}", None),
    ("POST", "/executions/repl", {"session_id": "{bad}", "input": "1"}),
    ("POST", "/executions/run-file", {"session_id": "{bad}", "path": "a.js"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES_WITH_IDS)
def test_malformed_uuid_in_any_path_query_or_body_is_validation_error(
    shared_client: TestClient,
    shared_template: dict[str, Any],
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    for bad in BAD_IDS:
        url = API + path.replace("{bad}", bad).replace(T, shared_template["id"])
        payload = None
        if body is not None:
            payload = {
                k: (v.replace("{bad}", bad) if isinstance(v, str) else v) for k, v in body.items()
            }
        r = shared_client.request(method, url, json=payload)
        assert_envelope(r, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=-3",
        "limit=1001",
        "limit=abc",
    ],
)
def test_bad_execution_list_limit_is_validation_error(
    client: TestClient, session: dict[str, Any], query: str
) -> None:
    r = client.get(f"{API}/executions?session_id={session['id']}&{query}")
    assert_envelope(r, 400, "VALIDATION_ERROR")


def test_execution_list_without_session_id_is_validation_error(shared_client: TestClient) -> None:
    r = shared_client.get(f"{API}/executions")
    assert "session_id" in assert_envelope(r, 400, "VALIDATION_ERROR")["message"]


@pytest.mark.parametrize(
    "query", ["after_seq=-1", "after_seq=x", "limit=0", "limit=10001", "limit=1.5"]
)
def test_bad_event_paging_values_are_validation_error(
    client: TestClient, session: dict[str, Any], query: str
) -> None:
    x = repl(client, session["id"], "1")
    r = client.get(f"{API}/executions/{x['id']}/events?{query}")
    assert_envelope(r, 400, "VALIDATION_ERROR")


def test_unknown_session_status_filter_is_validation_error(shared_client: TestClient) -> None:
    assert_envelope(shared_client.get(f"{API}/sessions?status=sleeping"), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("worktree", ["relative/dir", "/definitely/not/here", ""])
def test_bad_worktree_is_validation_error(
    client: TestClient, template: dict[str, Any], worktree: str
) -> None:
    r = client.post(
        f"{API}/sessions", json={"template_id": template["id"], "worktree_path": worktree}
    )
    assert_envelope(r, 400, "VALIDATION_ERROR")


def test_worktree_that_is_a_file_is_validation_error(
    client: TestClient, template: dict[str, Any], tmp_path: Path
) -> None:
    f = tmp_path / "file.txt"
    f.write_text("x")
    r = client.post(
        f"{API}/sessions", json={"template_id": template["id"], "worktree_path": str(f)}
    )
    assert_envelope(r, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "settings",
    [
        {"limits": {"wall_ms": "fast"}},
        {"limits": {"wall_ms": 0}},
        {"limits": {"nonsense_ms": 5}},
        {"bogus": {}},
    ],
)
def test_bad_settings_in_patch_are_validation_error(
    client: TestClient, template: dict[str, Any], settings: dict[str, Any]
) -> None:
    r = client.patch(f"{API}/templates/{template['id']}", json={"settings": settings})
    assert_envelope(r, 400, "VALIDATION_ERROR")
    after = client.get(f"{API}/templates/{template['id']}").json()["template"]
    assert after["settings"] == template["settings"], "a refused PATCH changes nothing"


def test_malformed_last_event_id_is_validation_error(
    client: TestClient, session: dict[str, Any]
) -> None:
    r = client.get(
        f"{API}/sessions/{session['id']}/events/stream", headers={"Last-Event-ID": "garbage"}
    )
    assert_envelope(r, 400, "VALIDATION_ERROR")


# ---------------------------------------------------------------------------- 401


@produces("UNAUTHORIZED")
@pytest.mark.parametrize("header", [None, "Bearer wrong", "s3cret", "Basic s3cret"])
def test_missing_or_wrong_token_is_unauthorized(make_client: Any, header: str | None) -> None:
    client = make_client(auth_token="s3cret")
    headers = {"Authorization": header} if header else {}
    r = client.get(f"{API}/templates", headers=headers)
    assert_envelope(r, 401, "UNAUTHORIZED")
    assert r.headers["www-authenticate"].startswith("Bearer")


@produces("INVALID_HOST")
@pytest.mark.parametrize("host", ["attacker.example:3210", "attacker.example", "127.0.0.1.nip.io"])
def test_a_host_header_the_daemon_does_not_serve_is_invalid_host(
    client: TestClient, host: str
) -> None:
    r = client.get(f"{API}/templates", headers={"Host": host})
    error = assert_envelope(r, 400, "INVALID_HOST")
    assert "--allowed-host" in error["message"]


@produces("CROSS_SITE_REQUEST")
@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({}, None),
        ({"Content-Type": "text/plain"}, b'{"name": "x"}'),
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"name=x"),
        ({"Origin": "http://attacker.example", "Content-Type": "application/json"}, b"{}"),
        ({"Origin": "null", "X-Requested-With": "x"}, None),
    ],
)
def test_a_state_change_a_foreign_page_could_send_is_cross_site_request(
    make_client: Any, template: dict[str, Any], headers: dict[str, str], body: bytes | None
) -> None:
    client = make_client()
    client.headers.pop("X-Requested-With")
    r = client.post(f"{API}/templates", content=body, headers=headers)
    assert_envelope(r, 403, "CROSS_SITE_REQUEST")
    r = client.delete(f"{API}/templates/{template['id']}", headers=headers)
    assert_envelope(r, 403, "CROSS_SITE_REQUEST")


# ---------------------------------------------------------------------------- 404


@produces("TEMPLATE_NOT_FOUND")
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/templates/{id}", None),
        ("PATCH", "/templates/{id}", {"name": "x"}),
        ("DELETE", "/templates/{id}", None),
        ("GET", "/templates/{id}/capabilities", None),
        ("POST", "/templates/{id}/capabilities", {"kind": "fs", "name": "write"}),
        ("GET", "/templates/{id}/modules", None),
        ("POST", "/templates/{id}/modules", {"name": "fs"}),
        ("DELETE", "/templates/{id}/modules/fs", None),
        ("GET", "/templates/{id}/libraries", None),
        ("POST", "/templates/{id}/libraries", {"name": "lodash"}),
        ("GET", "/templates/{id}/startup-files", None),
        ("POST", "/templates/{id}/startup-files", {"path": "a.js"}),
    ],
)
def test_unknown_template_is_template_not_found(
    shared_client: TestClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    r = shared_client.request(method, API + path.format(id=UNKNOWN_ID), json=body)
    error = assert_envelope(r, 404, "TEMPLATE_NOT_FOUND")
    assert error["details"]["template_id"] == UNKNOWN_ID


@pytest.mark.parametrize("ref", [UNKNOWN_ID, "no-such-template-name"])
def test_session_for_unknown_template_id_or_name_is_template_not_found(
    client: TestClient, worktree: Path, ref: str
) -> None:
    r = client.post(f"{API}/sessions", json={"template_id": ref, "worktree_path": str(worktree)})
    assert_envelope(r, 404, "TEMPLATE_NOT_FOUND")


@produces("SESSION_NOT_FOUND")
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/sessions/{id}", None),
        ("POST", "/sessions/{id}/close", None),
        ("DELETE", "/sessions/{id}", None),
        ("GET", "/sessions/{id}/events/stream", None),
        ("POST", "/executions/repl", {"session_id": "{id}", "input": "1"}),
        ("POST", "/executions/run-file", {"session_id": "{id}", "path": "a.js"}),
    ],
)
def test_unknown_session_is_session_not_found(
    client: TestClient, method: str, path: str, body: dict[str, Any] | None
) -> None:
    payload = {k: v.format(id=UNKNOWN_ID) for k, v in body.items()} if body else None
    r = client.request(method, API + path.format(id=UNKNOWN_ID), json=payload)
    assert assert_envelope(r, 404, "SESSION_NOT_FOUND")["details"]["session_id"] == UNKNOWN_ID


@produces("EXECUTION_NOT_FOUND")
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/executions/{id}"),
        ("POST", "/executions/{id}/cancel"),
        ("GET", "/executions/{id}/events"),
        ("GET", "/executions/{id}/events/stream"),
    ],
)
def test_unknown_execution_is_execution_not_found(
    shared_client: TestClient, method: str, path: str
) -> None:
    r = shared_client.request(method, API + path.format(id=UNKNOWN_ID))
    assert assert_envelope(r, 404, "EXECUTION_NOT_FOUND")["details"]["execution_id"] == UNKNOWN_ID


@produces("DOWNLOAD_NOT_FOUND")
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/libraries/downloads/{id}"), ("POST", "/libraries/downloads/{id}/cancel")],
)
def test_unknown_library_download_is_download_not_found(
    shared_client: TestClient, method: str, path: str
) -> None:
    r = shared_client.request(method, API + path.format(id=UNKNOWN_ID))
    assert assert_envelope(r, 404, "DOWNLOAD_NOT_FOUND")["details"]["download_id"] == UNKNOWN_ID


@produces("FILE_NOT_FOUND")
def test_run_file_of_a_missing_file_is_file_not_found_and_records_nothing(
    client: TestClient, session: dict[str, Any]
) -> None:
    r = client.post(
        f"{API}/executions/run-file", json={"session_id": session["id"], "path": "missing.js"}
    )
    assert_envelope(r, 404, "FILE_NOT_FOUND")
    assert client.get(f"{API}/executions?session_id={session['id']}").json() == []


@produces("ROUTE_NOT_FOUND")
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/nothing-here"),
        ("GET", "/api/v2/templates"),
        ("POST", "/api/v1/sessions/x/y/z"),
        ("POST", "/not-an-api-path"),
    ],
)
def test_unknown_route_is_route_not_found_envelope(
    shared_client: TestClient, method: str, path: str
) -> None:
    assert_envelope(shared_client.request(method, path), 404, "ROUTE_NOT_FOUND")


# ---------------------------------------------------------------------------- 405


@produces("METHOD_NOT_ALLOWED")
@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/templates", {"GET", "POST"}),
        ("DELETE", "/api/v1/templates", {"GET", "POST"}),
        ("PUT", f"/api/v1/templates/{UNKNOWN_ID}", {"GET", "PATCH", "DELETE"}),
        ("GET", f"/api/v1/sessions/{UNKNOWN_ID}/close", {"POST"}),
        ("PUT", "/api/v1/executions/repl", {"GET", "POST"}),  # GET: /executions/{id}
        ("DELETE", "/api/v1/health", {"GET"}),
    ],
)
def test_wrong_method_is_method_not_allowed_with_allow_header(
    shared_client: TestClient, method: str, path: str, allowed: set[str]
) -> None:
    r = shared_client.request(method, path)
    assert_envelope(r, 405, "METHOD_NOT_ALLOWED")
    listed = {m.strip() for m in r.headers["allow"].split(",")}
    assert listed == allowed | ({"HEAD"} if "GET" in allowed else set())


# ---------------------------------------------------------------------------- 409


def _start_endless(client: TestClient, session_id: str) -> dict[str, Any]:
    running = repl(client, session_id, "while(true){}", status=202, stream=True)
    assert running["status"] == "running"
    return running


def _cancel(client: TestClient, execution_id: str) -> dict[str, Any]:
    r = client.post(f"{API}/executions/{execution_id}/cancel")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@produces("SESSION_BUSY")
def test_second_execution_while_one_runs_is_session_busy(
    client: TestClient, session: dict[str, Any], worktree: Path
) -> None:
    (worktree / "a.js").write_text("1")
    running = _start_endless(client, session["id"])
    try:
        r = client.post(f"{API}/executions/repl", json={"session_id": session["id"], "input": "1"})
        details = assert_envelope(r, 409, "SESSION_BUSY")["details"]
        assert details == {"session_id": session["id"], "execution_id": running["id"]}
        r = client.post(
            f"{API}/executions/run-file", json={"session_id": session["id"], "path": "a.js"}
        )
        assert_envelope(r, 409, "SESSION_BUSY")
    finally:
        assert _cancel(client, running["id"])["status"] == "cancelled"
    assert repl(client, session["id"], "'free again'")["result"]["preview"] == "free again"


@produces("IDEMPOTENCY_IN_PROGRESS")
def test_a_duplicate_idempotent_request_while_the_first_runs_is_in_progress(
    client: TestClient, session: dict[str, Any]
) -> None:
    body = {
        "session_id": session["id"],
        "input": "const t = Date.now(); while (Date.now() - t < 600) {}",
    }
    headers = {"Idempotency-Key": "busy-key"}
    first: dict[str, Any] = {}
    thread = threading.Thread(
        target=lambda: first.setdefault(
            "r", client.post(f"{API}/executions/repl", json=body, headers=headers)
        )
    )
    thread.start()
    time.sleep(0.2)
    r = client.post(f"{API}/executions/repl", json=body, headers=headers)
    thread.join()
    details = assert_envelope(r, 409, "IDEMPOTENCY_IN_PROGRESS")["details"]
    assert details == {"idempotency_key": "busy-key", "resource_id": first["r"].json()["id"]}


@produces("IDEMPOTENCY_KEY_REUSED")
def test_an_idempotency_key_reused_for_another_body_is_key_reused(
    client: TestClient, session: dict[str, Any]
) -> None:
    headers = {"Idempotency-Key": "used-key"}
    url = f"{API}/executions/repl"
    assert (
        client.post(
            url, json={"session_id": session["id"], "input": "1"}, headers=headers
        ).status_code
        == 201
    )
    r = client.post(url, json={"session_id": session["id"], "input": "2"}, headers=headers)
    assert assert_envelope(r, 422, "IDEMPOTENCY_KEY_REUSED")["details"] == {
        "idempotency_key": "used-key"
    }


@produces("INVALID_FORK_POINT")
def test_forking_until_an_execution_of_another_session_is_invalid_fork_point(
    client: TestClient, session: dict[str, Any], template: dict[str, Any], worktree: Path
) -> None:
    other = create_session(client, template["id"], worktree)
    r = client.post(f"{API}/executions/repl", json={"session_id": other["id"], "input": "1"})
    foreign = r.json()["id"]
    r = client.post(f"{API}/sessions/{session['id']}/fork", json={"until_execution_id": foreign})
    assert assert_envelope(r, 422, "INVALID_FORK_POINT")["details"] == {
        "session_id": session["id"],
        "execution_id": foreign,
    }


@produces("SESSION_NOT_READY")
def test_executing_in_a_closed_session_is_session_not_ready(
    client: TestClient, session: dict[str, Any], worktree: Path
) -> None:
    (worktree / "a.js").write_text("1")
    assert client.post(f"{API}/sessions/{session['id']}/close").status_code == 200
    r = client.post(f"{API}/executions/repl", json={"session_id": session["id"], "input": "1"})
    assert_envelope(r, 409, "SESSION_NOT_READY")
    r = client.post(
        f"{API}/executions/run-file", json={"session_id": session["id"], "path": "a.js"}
    )
    assert_envelope(r, 409, "SESSION_NOT_READY")


def test_executing_in_a_crashed_session_is_session_not_ready(
    client: TestClient, worktree: Path
) -> None:
    (worktree / "boom.js").write_text("throw new Error('no start')")
    t = create_template(client, "crashes")
    client.post(f"{API}/templates/{t['id']}/startup-files", json={"path": "boom.js"})
    r = client.post(
        f"{API}/sessions", json={"template_id": t["id"], "worktree_path": str(worktree)}
    )
    sid = assert_envelope(r, 422, "STARTUP_FAILED")["details"]["session_id"]
    r = client.post(f"{API}/executions/repl", json={"session_id": sid, "input": "1"})
    assert_envelope(r, 409, "SESSION_NOT_READY")


@produces("SESSION_ACTIVE")
def test_purging_a_ready_session_is_session_active(
    client: TestClient, session: dict[str, Any]
) -> None:
    url = f"{API}/sessions/{session['id']}"
    error = assert_envelope(client.delete(url, params={"purge": "true"}), 409, "SESSION_ACTIVE")
    assert error["details"] == {"session_id": session["id"], "status": "ready"}
    assert client.get(url).json()["status"] == "ready", "the session is untouched"


@produces("CONFLICT")
def test_duplicate_template_name_is_conflict(client: TestClient) -> None:
    create_template(client, "same")
    assert_envelope(client.post(f"{API}/templates", json={"name": "same"}), 409, "CONFLICT")


def test_renaming_a_template_onto_an_existing_name_is_conflict(client: TestClient) -> None:
    create_template(client, "first")
    second = create_template(client, "second")
    r = client.patch(f"{API}/templates/{second['id']}", json={"name": "first"})
    assert_envelope(r, 409, "CONFLICT")


def test_duplicate_capability_is_conflict(client: TestClient, template: dict[str, Any]) -> None:
    url = f"{API}/templates/{template['id']}/capabilities"
    assert client.post(url, json={"kind": "fs", "name": "write"}).status_code == 201
    assert_envelope(client.post(url, json={"kind": "fs", "name": "write"}), 409, "CONFLICT")


def test_duplicate_startup_path_is_conflict(client: TestClient, template: dict[str, Any]) -> None:
    url = f"{API}/templates/{template['id']}/startup-files"
    assert client.post(url, json={"path": "init.js"}).status_code == 201
    r = client.post(url, json={"path": "./lib/../init.js", "order_index": 3})
    assert_envelope(r, 409, "CONFLICT")


@produces("TEMPLATE_IN_USE")
def test_deleting_a_template_with_a_ready_session_is_template_in_use(
    client: TestClient, template: dict[str, Any], session: dict[str, Any]
) -> None:
    r = client.delete(f"{API}/templates/{template['id']}")
    assert_envelope(r, 409, "TEMPLATE_IN_USE")
    assert client.post(f"{API}/sessions/{session['id']}/close").status_code == 200
    r = client.delete(f"{API}/templates/{template['id']}")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "template_id": template["id"]}


# ---------------------------------------------------------------------------- 429


@produces("TOO_MANY_SESSIONS")
def test_a_session_over_the_cap_is_too_many_sessions(
    vm: VmSystem, client: TestClient, template: dict[str, Any], worktree: Path
) -> None:
    from vmsystem.core.session_cap import SessionCap

    vm.sessions.cap = SessionCap(vm.registry, 1)
    first = create_session(client, template["id"], worktree)
    r = client.post(
        f"{API}/sessions", json={"template_id": template["id"], "worktree_path": str(worktree)}
    )
    error = assert_envelope(r, 429, "TOO_MANY_SESSIONS")
    assert error["details"] == {"max_sessions": 1}
    client.post(f"{API}/sessions/{first['id']}/close")
    create_session(client, template["id"], worktree)


# ---------------------------------------------------------------------------- 503


@produces("STORE_UNAVAILABLE")
def test_a_database_overwritten_with_random_bytes_refuses_to_run_code(
    vm: VmSystem, client: TestClient, session: dict[str, Any], db_path: Path
) -> None:
    import os
    import sqlite3

    assert repl(client, session["id"], "1+1")["status"] == "ok"
    vm.store.flush(5)
    with sqlite3.connect(db_path) as raw:  # everything into the main file, the WAL emptied
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db_path.write_bytes(os.urandom(db_path.stat().st_size))
    for _ in range(2):
        r = client.post(f"{API}/executions/repl", json={"session_id": session["id"], "input": "7"})
        error = assert_envelope(r, 503, "STORE_UNAVAILABLE")
        assert "no code runs" in error["message"]


# ---------------------------------------------------------------------------- 413


@produces("PAYLOAD_TOO_LARGE")
def test_body_over_the_limit_is_payload_too_large(make_client: Any) -> None:
    client = make_client(max_request_bytes=64)
    r = client.post(f"{API}/templates", json={"name": "x" * 100})
    assert_envelope(r, 413, "PAYLOAD_TOO_LARGE")
    assert client.post(f"{API}/templates", json={"name": "small"}).status_code == 201


# ---------------------------------------------------------------------------- 431


@produces("HEADERS_TOO_LARGE")
def test_a_head_over_the_limits_is_headers_too_large(make_client: Any) -> None:
    client = make_client(max_header_bytes=2048, max_header_count=12)
    r = client.get(f"{API}/templates", headers={"X-Pad": "p" * 3000})
    assert_envelope(r, 431, "HEADERS_TOO_LARGE")
    many = {f"X-F{i}": "1" for i in range(12)}
    assert_envelope(client.get(f"{API}/templates", headers=many), 431, "HEADERS_TOO_LARGE")
    assert client.get(f"{API}/templates", headers={"X-Pad": "p" * 1000}).status_code == 200


def test_chunked_body_over_the_limit_without_content_length_is_payload_too_large(
    make_client: Any,
) -> None:
    client = make_client(max_request_bytes=64)

    def chunks() -> Any:
        yield b'{"name": "'
        for _ in range(10):
            yield b"x" * 20
        yield b'"}'

    r = client.post(
        f"{API}/templates", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in r.request.headers
    assert r.request.headers["transfer-encoding"] == "chunked"
    assert_envelope(r, 413, "PAYLOAD_TOO_LARGE")


def test_small_chunked_body_is_accepted(make_client: Any) -> None:
    client = make_client(max_request_bytes=64)

    def chunks() -> Any:
        yield b'{"name": '
        yield b'"chunky"}'

    r = client.post(
        f"{API}/templates", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "chunky"


# ---------------------------------------------------------------------------- 422


@produces("INVALID_PATH")
@pytest.mark.parametrize("path", ["../etc/passwd", "/etc/passwd", "a/../../x.js", "", "."])
def test_escaping_startup_paths_are_invalid_path(
    client: TestClient, template: dict[str, Any], path: str
) -> None:
    r = client.post(f"{API}/templates/{template['id']}/startup-files", json={"path": path})
    assert_envelope(r, 422, "INVALID_PATH")


@pytest.mark.parametrize(
    "path", ["../etc/passwd", "/etc/passwd", "sub/../../x.js", "link.js", "dir"]
)
def test_escaping_or_non_file_run_file_paths_are_invalid_path_and_record_nothing(
    client: TestClient, session: dict[str, Any], worktree: Path, tmp_path: Path, path: str
) -> None:
    outside = tmp_path / "outside.js"
    outside.write_text("'secret'")
    (worktree / "link.js").symlink_to(outside)
    (worktree / "dir").mkdir()
    r = client.post(f"{API}/executions/run-file", json={"session_id": session["id"], "path": path})
    assert_envelope(r, 422, "INVALID_PATH")
    assert client.get(f"{API}/executions?session_id={session['id']}").json() == []


@produces("INVALID_ARCHIVE")
def test_a_damaged_archive_or_a_link_member_is_invalid_archive(
    client: TestClient, session: dict[str, Any], worktree: Path
) -> None:
    url = f"{API}/sessions/{session['id']}/archive"
    assert_envelope(client.post(url, content=b"not an archive"), 422, "INVALID_ARCHIVE")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        link = tarfile.TarInfo("passwd")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
    assert_envelope(client.post(url, content=buffer.getvalue()), 422, "INVALID_ARCHIVE")
    assert list(worktree.iterdir()) == []


@produces("RANGE_NOT_SATISFIABLE")
def test_a_range_past_the_end_of_a_file_is_range_not_satisfiable(
    client: TestClient, session: dict[str, Any], worktree: Path
) -> None:
    (worktree / "f.txt").write_text("12345")
    r = client.get(f"{API}/sessions/{session['id']}/files/f.txt", headers={"Range": "bytes=5-"})
    assert_envelope(r, 416, "RANGE_NOT_SATISFIABLE")


@produces("OUTPUT_LIMIT_EXCEEDED")
def test_too_many_events_is_output_limit_exceeded_and_the_stored_execution_agrees(
    client: TestClient, template: dict[str, Any], worktree: Path
) -> None:
    patch_limits(client, template["id"], max_events=3)
    s = create_session(client, template["id"], worktree)
    r = client.post(
        f"{API}/executions/repl",
        json={"session_id": s["id"], "input": "for (let i = 0; i < 10; i++) console.log(i)"},
    )
    error = assert_envelope(r, 422, "OUTPUT_LIMIT_EXCEEDED")
    stored = client.get(f"{API}/executions/{error['details']['execution_id']}").json()
    assert stored["session_id"] == s["id"]
    assert stored["status"] == "error"
    assert stored["error"]["code"] == "OUTPUT_LIMIT_EXCEEDED"
    evs = client.get(f"{API}/executions/{stored['id']}/events").json()
    assert [e["seq"] for e in evs] == list(range(1, len(evs) + 1))
    assert len(evs) <= 4, "events up to the limit plus the final system event"
    assert evs[-1]["type"] == "system"
    assert evs[-1]["payload"]["code"] == "OUTPUT_LIMIT_EXCEEDED"
    assert repl(client, s["id"], "'still usable'")["status"] == "ok"


def test_too_much_console_output_is_output_limit_exceeded(
    client: TestClient, template: dict[str, Any], worktree: Path
) -> None:
    patch_limits(client, template["id"], max_output_kb=1)
    s = create_session(client, template["id"], worktree)
    r = client.post(
        f"{API}/executions/repl",
        json={"session_id": s["id"], "input": "console.log('x'.repeat(4096)); 1"},
    )
    error = assert_envelope(r, 422, "OUTPUT_LIMIT_EXCEEDED")
    stored = client.get(f"{API}/executions/{error['details']['execution_id']}").json()
    assert (stored["status"], stored["error"]["code"]) == ("error", "OUTPUT_LIMIT_EXCEEDED")


@produces("STARTUP_MODE_UNSUPPORTED")
@pytest.mark.parametrize("mode", ["import", "module", "IMPORT "])
def test_startup_mode_other_than_eval_is_unsupported(
    client: TestClient, template: dict[str, Any], mode: str
) -> None:
    r = client.post(
        f"{API}/templates/{template['id']}/startup-files", json={"path": "a.js", "mode": mode}
    )
    error = assert_envelope(r, 422, "STARTUP_MODE_UNSUPPORTED")
    assert error["details"]["supported_modes"] == ["eval"]


@produces("MODULE_NOT_ALLOWED")
@pytest.mark.parametrize("name", ["json", "console", "Math", "not-a-real-module", "http"])
def test_builtin_or_unknown_module_is_module_not_allowed(
    client: TestClient, template: dict[str, Any], name: str
) -> None:
    r = client.post(f"{API}/templates/{template['id']}/modules", json={"name": name})
    assert_envelope(r, 422, "MODULE_NOT_ALLOWED")
    assert client.get(f"{API}/templates/{template['id']}/modules").json() == []


def test_module_capability_for_a_builtin_is_refused(
    client: TestClient, template: dict[str, Any]
) -> None:
    r = client.post(
        f"{API}/templates/{template['id']}/capabilities", json={"kind": "module", "name": "console"}
    )
    assert_envelope(r, 422, "MODULE_NOT_ALLOWED")
    assert client.get(f"{API}/templates/{template['id']}/capabilities").json() == []


@produces("LIBRARY_NOT_FOUND")
@pytest.mark.parametrize("name", ["left-pad", "lodash@0.0.1-nope", "../../etc/passwd"])
def test_unknown_library_is_library_not_found(
    client: TestClient, template: dict[str, Any], name: str
) -> None:
    r = client.post(f"{API}/templates/{template['id']}/libraries", json={"name": name})
    assert_envelope(r, 422, "LIBRARY_NOT_FOUND")
    assert client.get(f"{API}/templates/{template['id']}/libraries").json() == []


@produces("ENGINE_NOT_SUPPORTED")
@pytest.mark.parametrize("engine", ["spidermonkey", "quickjs", "node"])
def test_unknown_engine_is_engine_not_supported(client: TestClient, engine: str) -> None:
    r = client.post(f"{API}/templates", json={"name": "e", "engine": engine})
    assert_envelope(r, 422, "ENGINE_NOT_SUPPORTED")
    assert client.get(f"{API}/templates").json() == []


def test_patching_an_unknown_engine_is_engine_not_supported(
    client: TestClient, template: dict[str, Any]
) -> None:
    r = client.patch(f"{API}/templates/{template['id']}", json={"engine": "rhino"})
    assert_envelope(r, 422, "ENGINE_NOT_SUPPORTED")


@produces("HOST_NOT_FOUND")
def test_draining_an_unknown_host_is_host_not_found(client: TestClient) -> None:
    r = client.post(f"{API}/runtime/hosts/nope/drain")
    assert_envelope(r, 404, "HOST_NOT_FOUND")
    assert r.json()["error"]["details"] == {"host_id": "nope"}


@produces("CONFLICT")
def test_draining_the_in_process_host_is_a_conflict(client: TestClient) -> None:
    r = client.post(f"{API}/runtime/hosts/local/drain")
    assert_envelope(r, 409, "CONFLICT")
    assert "cannot be drained" in r.json()["error"]["message"]


@produces("MEMORY_BUDGET_EXCEEDED")
def test_a_mem_mb_above_a_hosts_budget_is_memory_budget_exceeded(
    client: TestClient, template: dict[str, Any]
) -> None:
    r = client.patch(
        f"{API}/templates/{template['id']}", json={"settings": {"limits": {"mem_mb": 4096}}}
    )
    assert_envelope(r, 422, "MEMORY_BUDGET_EXCEEDED")
    body = r.json()["error"]
    assert body["details"] == {"mem_mb": 4096, "memory_budget_mb": 3072}
    assert "3072" in body["message"]
    limits = client.get(f"{API}/templates/{template['id']}").json()["settings"]["limits"]
    assert limits["mem_mb"] == 128
    r = client.patch(
        f"{API}/templates/{template['id']}", json={"settings": {"limits": {"mem_mb": 3072}}}
    )
    assert r.status_code == 200


@produces("STARTUP_FAILED")
def test_throwing_startup_file_is_startup_failed_and_the_session_crashed(
    client: TestClient, template: dict[str, Any], worktree: Path
) -> None:
    (worktree / "init.js").write_text("throw new TypeError('bad init')")
    r = client.post(f"{API}/templates/{template['id']}/startup-files", json={"path": "init.js"})
    assert r.status_code == 201
    r = client.post(
        f"{API}/sessions", json={"template_id": template["id"], "worktree_path": str(worktree)}
    )
    error = assert_envelope(r, 422, "STARTUP_FAILED")
    assert "bad init" in error["message"]
    s = client.get(f"{API}/sessions/{error['details']['session_id']}").json()
    assert s["status"] == "crashed"
    assert "bad init" in s["last_error"]
    assert client.get(f"{API}/runtime/summary").json()["active_sessions"] == 0


def test_missing_startup_file_is_startup_failed(
    client: TestClient, template: dict[str, Any], worktree: Path
) -> None:
    client.post(f"{API}/templates/{template['id']}/startup-files", json={"path": "gone.js"})
    r = client.post(
        f"{API}/sessions", json={"template_id": template["id"], "worktree_path": str(worktree)}
    )
    error = assert_envelope(r, 422, "STARTUP_FAILED")
    assert (
        client.get(f"{API}/sessions/{error['details']['session_id']}").json()["status"] == "crashed"
    )


# ---------------------------------------------------------------------------- 424


@produces("LIBRARY_NOT_CACHED")
def test_known_library_missing_from_the_cache_is_library_not_cached(
    client: TestClient, template: dict[str, Any], worktree: Path
) -> None:
    r = client.post(f"{API}/templates/{template['id']}/libraries", json={"name": "lodash"})
    assert r.status_code == 201
    r = client.post(
        f"{API}/sessions", json={"template_id": template["id"], "worktree_path": str(worktree)}
    )
    error = assert_envelope(r, 424, "LIBRARY_NOT_CACHED")
    assert "vm-system libs download" in error["message"]
    s = client.get(f"{API}/sessions/{error['details']['session_id']}").json()
    assert s["status"] == "crashed"
    assert "vm-system libs download" in s["last_error"]


# ---------------------------------------------------------------------------- 500


@produces("INTERNAL")
def test_internal_fault_is_internal_envelope_without_a_traceback(
    make_client: Any, vm: VmSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise RuntimeError("secret internals at /home/x")

    monkeypatch.setattr(vm, "summary", broken)
    r = make_client().get(f"{API}/runtime/summary", headers={"X-Request-Id": "req-500"})
    error = assert_envelope(r, 500, "INTERNAL")
    assert r.headers["x-request-id"] == "req-500"
    assert "Traceback" not in r.text and "/home/x" not in r.text
    assert error["message"]


def test_session_busy_clears_once_the_run_is_cancelled(
    client: TestClient, session: dict[str, Any]
) -> None:
    running = _start_endless(client, session["id"])
    cancelled = _cancel(client, running["id"])
    assert cancelled["status"] == "cancelled"
    assert cancelled["error"]["code"] == "CANCELLED"
    wait_for(lambda: client.get(f"{API}/runtime/summary").json()["running_executions"] == 0)


# ---------------------------------------------------------------------------- found by fuzzing


def _raw_post(client: TestClient, path: str, body: dict[str, Any]) -> Any:
    """POST ``body`` as JSON text: lone surrogates become ``\\udXXX`` escapes, big ints stay."""
    return client.post(
        f"{API}{path}",
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )


def test_lone_surrogates_in_json_strings_are_invalid_request_not_500(
    client: TestClient, session: dict[str, Any], worktree: Path
) -> None:
    """``"\\ud800"`` is valid JSON but not Unicode text: no store can keep it."""
    (worktree / "a.js").write_text("1")
    sid, tid = session["id"], session["template_id"]
    lone = "\ud800"
    bodies = [
        ("/templates", {"name": lone}),
        ("/sessions", {"template_id": lone, "worktree_path": str(worktree)}),
        (f"/templates/{tid}/modules", {"name": lone}),
        ("/executions/repl", {"session_id": sid, "input": f"'{lone}'"}),
        ("/executions/run-file", {"session_id": sid, "path": "a.js", "env": {"X": lone}}),
        ("/executions/run-file", {"session_id": sid, "path": "a.js", "args": {lone: 1}}),
    ]
    for path, body in bodies:
        error = assert_envelope(_raw_post(client, path, body), 400, "INVALID_REQUEST")
        assert "surrogate" in error["message"], path
    r = client.patch(
        f"{API}/templates/{tid}",
        content=json.dumps({"name": lone}).encode(),
        headers={"content-type": "application/json"},
    )
    assert_envelope(r, 400, "INVALID_REQUEST")
    assert repl(client, sid, "'session unharmed'")["result"]["preview"] == "session unharmed"


def test_integers_beyond_64_bits_are_invalid_request_and_the_session_survives(
    client: TestClient, session: dict[str, Any], worktree: Path
) -> None:
    (worktree / "a.js").write_text("JSON.stringify(__ARGS__)")
    sid, tid = session["id"], session["template_id"]
    huge = 2**70
    cases = [
        ("/executions/run-file", {"session_id": sid, "path": "a.js", "args": {"n": huge}}),
        ("/executions/run-file", {"session_id": sid, "path": "a.js", "args": {"l": [1, huge]}}),
        (f"/templates/{tid}/startup-files", {"path": "s.js", "order_index": huge}),
        (f"/templates/{tid}/startup-files", {"path": "s.js", "order_index": 2**31}),
        (
            f"/templates/{tid}/capabilities",
            {"kind": "exec", "name": "run", "config": {"allow": ["ls"], "timeout_ms": huge}},
        ),
    ]
    for path, body in cases:
        assert_envelope(_raw_post(client, path, body), 400, "INVALID_REQUEST")
    assert client.get(f"{API}/sessions/{sid}").json()["status"] == "ready"
    assert client.get(f"{API}/executions?session_id={sid}").json() == []
    body = {"session_id": sid, "path": "a.js", "args": {"n": 2**53}}
    r = _raw_post(client, "/executions/run-file", body)
    assert r.status_code == 201 and r.json()["args"] == {"n": 2**53}


def test_huge_after_seq_and_last_event_id_mean_nothing_after_not_500(
    client: TestClient, session: dict[str, Any]
) -> None:
    x = repl(client, session["id"], "1")
    url = f"{API}/executions/{x['id']}/events"
    for seq in (2**31, 2**63, 2**80):
        r = client.get(f"{url}?after_seq={seq}")
        assert (r.status_code, r.json()) == (200, [])
        stream = client.get(f"{url}/stream?after_seq={seq}")
        assert stream.status_code == 200 and "data:" not in stream.text
        stream = client.get(f"{url}/stream", headers={"Last-Event-ID": f"{x['id']}:{seq}"})
        assert stream.status_code == 200 and "data:" not in stream.text
