"""``POST /sessions/{id}/complete`` (issue 28 item 1): globals, REPL bindings and properties
from the session's runtime, no user code run, not an execution, 409 while one runs."""

from __future__ import annotations

from typing import Any

from .conftest import API, TestClient, repl
from .helpers import assert_envelope, wait_for


def complete(client: TestClient, session_id: str, code: str, **body: Any) -> Any:
    return client.post(f"{API}/sessions/{session_id}/complete", json={"code": code, **body})


def test_math_ma_lists_max_with_the_span_to_replace(
    client: TestClient, session: dict[str, Any]
) -> None:
    answer = complete(client, session["id"], "Math.ma")
    assert answer.status_code == 200
    body = answer.json()
    assert "max" in body["matches"]
    assert (body["cursor_start"], body["cursor_end"]) == (5, 7)


def test_a_declared_binding_completes(client: TestClient, session: dict[str, Any]) -> None:
    repl(client, session["id"], "const myVar = 1")
    assert "myVar" in complete(client, session["id"], "my").json()["matches"]
    inside = complete(client, session["id"], "my + 1", cursor=2).json()
    assert "myVar" in inside["matches"] and inside["cursor_end"] == 2


def test_no_getter_runs_and_no_execution_is_recorded(
    client: TestClient, session: dict[str, Any]
) -> None:
    repl(
        client,
        session["id"],
        "globalThis.ran = 0; const obj = { get prop() { ran++; throw new Error('getter') } }",
    )
    before = client.get(f"{API}/executions", params={"session_id": session["id"]}).json()
    assert complete(client, session["id"], "obj.pr").json()["matches"][0] == "prop"
    assert complete(client, session["id"], "obj.prop.").json()["matches"] == []
    after = client.get(f"{API}/executions", params={"session_id": session["id"]}).json()
    assert [x["id"] for x in after] == [x["id"] for x in before], "not an execution"
    assert repl(client, session["id"], "ran")["result"]["json"] == 0


def test_busy_session_answers_409_at_once_and_bad_input_is_400(
    client: TestClient, session: dict[str, Any]
) -> None:
    running = client.post(
        f"{API}/executions/repl",
        json={"session_id": session["id"], "input": "while (true) {}", "stream": True},
    ).json()
    wait_for(lambda: client.get(f"{API}/executions/{running['id']}").json()["status"] == "running")
    busy = assert_envelope(complete(client, session["id"], "Math.ma"), 409, "SESSION_BUSY")
    assert busy["details"]["execution_id"] == running["id"]
    client.post(f"{API}/executions/{running['id']}/cancel")
    wait_for(lambda: complete(client, session["id"], "Math.ma").status_code == 200)
    assert_envelope(complete(client, session["id"], "Math", cursor=9), 400, "VALIDATION_ERROR")
    assert_envelope(
        client.post(f"{API}/sessions/{session['id']}/complete", json={"cursor": 1}),
        400,
        "VALIDATION_ERROR",
    )
    assert_envelope(
        complete(client, "00000000-0000-4000-8000-000000000000", "x"), 404, "SESSION_NOT_FOUND"
    )
    client.post(f"{API}/sessions/{session['id']}/close")
    assert_envelope(complete(client, session["id"], "x"), 409, "SESSION_NOT_READY")
