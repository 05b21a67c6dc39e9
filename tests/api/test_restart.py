"""POST /api/v1/sessions/{id}/restart: a fresh runtime under the same id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from .conftest import API, create_session, create_template


def _repl(client: TestClient, sid: str, code: str) -> dict[str, Any]:
    r = client.post(f"{API}/executions/repl", json={"session_id": sid, "input": code})
    assert r.status_code in (201, 409, 422), r.text
    return r.json()  # type: ignore[no-any-return]


def test_restart_drops_globals_reruns_startup_files_and_keeps_history(
    client: TestClient, worktree: Path
) -> None:
    (worktree / "init.js").write_text("globalThis.fromStartup = 'back'")
    template = create_template(client, "restart")
    client.post(f"{API}/templates/{template['id']}/startup-files", json={"path": "init.js"})
    session = create_session(client, template["id"], worktree)
    sid = session["id"]
    before = _repl(client, sid, "globalThis.mine = 1; mine")
    r = client.post(f"{API}/sessions/{sid}/restart")
    assert r.status_code == 200, r.text
    restarted = r.json()
    assert (restarted["id"], restarted["status"]) == (sid, "ready")
    gone = _repl(client, sid, "typeof mine")
    assert gone["result"]["json"] == "undefined"
    assert _repl(client, sid, "fromStartup")["result"]["json"] == "back"
    kinds = [x["kind"] for x in client.get(f"{API}/executions?session_id={sid}").json()]
    # newest first: the two runs after, the startup file, the restart, the run before, startup
    assert kinds == ["repl", "repl", "startup", "restart", "repl", "startup"]
    listed = client.get(f"{API}/executions?session_id={sid}").json()
    restart = next(x for x in listed if x["kind"] == "restart")
    events = client.get(f"{API}/executions/{restart['id']}/events").json()
    assert [(e["type"], e["payload"]["code"]) for e in events] == [("system", "SESSION_RESTARTED")]
    assert client.get(f"{API}/executions/{before['id']}").json()["status"] == "ok"


def test_refresh_template_takes_the_templates_current_settings(
    client: TestClient, worktree: Path
) -> None:
    template = create_template(client, "refresh")
    sid = create_session(client, template["id"], worktree)["id"]
    client.patch(
        f"{API}/templates/{template['id']}", json={"settings": {"limits": {"wall_ms": 250}}}
    )
    kept = client.post(f"{API}/sessions/{sid}/restart", json={}).json()
    assert kept["template_snapshot"]["settings"]["limits"]["wall_ms"] == 5000
    fresh = client.post(f"{API}/sessions/{sid}/restart", json={"refresh_template": True}).json()
    assert fresh["template_snapshot"]["settings"]["limits"]["wall_ms"] == 250
    assert _repl(client, sid, "while (true) {}")["status"] == "timeout"


def test_a_crashed_session_restarts_and_a_closed_one_does_not(
    client: TestClient, worktree: Path
) -> None:
    (worktree / "init.js").write_text("if (!globalThis.ok) throw new Error('startup broke')")
    template = create_template(client, "crashy")
    client.post(f"{API}/templates/{template['id']}/startup-files", json={"path": "init.js"})
    r = client.post(
        f"{API}/sessions", json={"template_id": template["id"], "worktree_path": str(worktree)}
    )
    assert r.status_code == 422
    sid = r.json()["error"]["details"]["session_id"]
    assert client.get(f"{API}/sessions/{sid}").json()["status"] == "crashed"
    (worktree / "init.js").write_text("globalThis.ok = true")
    r = client.post(f"{API}/sessions/{sid}/restart")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["last_error"]) == ("ready", None)
    client.post(f"{API}/sessions/{sid}/close")
    refused = client.post(f"{API}/sessions/{sid}/restart")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "SESSION_NOT_READY"


def test_restart_while_an_execution_runs_is_session_busy(
    client: TestClient, worktree: Path
) -> None:
    template = create_template(client, "busy")
    sid = create_session(client, template["id"], worktree)["id"]
    running = client.post(
        f"{API}/executions/repl?wait=false", json={"session_id": sid, "input": "while (true) {}"}
    ).json()
    try:
        r = client.post(f"{API}/sessions/{sid}/restart")
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "SESSION_BUSY"
        assert r.json()["error"]["details"]["execution_id"] == running["id"]
    finally:
        client.post(f"{API}/executions/{running['id']}/cancel")


def test_restart_with_unknown_fields_is_invalid_request(client: TestClient, worktree: Path) -> None:
    template = create_template(client, "strict")
    sid = create_session(client, template["id"], worktree)["id"]
    r = client.post(f"{API}/sessions/{sid}/restart", json={"refresh": True})
    assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_REQUEST"
