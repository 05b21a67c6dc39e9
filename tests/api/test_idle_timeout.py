"""Idle timeouts over HTTP: a session's own in its create request and its JSON, the
template setting, bad values answered 422 in the envelope, a closed session's stream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import API, TestClient
from .helpers import assert_envelope, wait_for


def test_a_session_shows_the_idle_timeout_it_was_created_with(
    client: TestClient, template: dict[str, Any], worktree: Path
) -> None:
    r = client.post(
        f"{API}/sessions",
        json={"template_id": template["id"], "worktree_path": str(worktree), "idle_timeout_s": 90},
    )
    assert r.status_code == 201 and r.json()["idle_timeout_s"] == 90
    plain = client.post(
        f"{API}/sessions", json={"template_id": template["id"], "worktree_path": str(worktree)}
    ).json()
    assert plain["idle_timeout_s"] is None


def test_an_interactive_session_takes_the_template_setting_first(
    client: TestClient, template: dict[str, Any], worktree: Path
) -> None:
    r = client.patch(
        f"{API}/templates/{template['id']}", json={"settings": {"session": {"idle_timeout_s": 45}}}
    )
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["session"] == {"idle_timeout_s": 45}
    body = {"template_id": template["id"], "worktree_path": str(worktree), "interactive": True}
    assert client.post(f"{API}/sessions", json=body).json()["idle_timeout_s"] == 45


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (-5, "VALIDATION_ERROR"),
        (10**9, "VALIDATION_ERROR"),
        ("soon", "INVALID_REQUEST"),  # the wrong type: refused by the body's schema
        (True, "INVALID_REQUEST"),
    ],
)
def test_a_bad_idle_timeout_is_refused_in_the_envelope(
    client: TestClient, template: dict[str, Any], worktree: Path, bad: Any, code: str
) -> None:
    r = client.post(
        f"{API}/sessions",
        json={"template_id": template["id"], "worktree_path": str(worktree), "idle_timeout_s": bad},
    )
    assert "idle_timeout_s" in assert_envelope(r, 400, code)["message"]
    patched = client.patch(
        f"{API}/templates/{template['id']}", json={"settings": {"session": {"idle_timeout_s": bad}}}
    )
    error = assert_envelope(patched, 400, "VALIDATION_ERROR")
    assert "settings.session.idle_timeout_s" in error["message"]
    assert client.get(f"{API}/sessions").json() == []


def test_a_session_closed_for_idleness_says_why(
    client: TestClient, template: dict[str, Any], worktree: Path
) -> None:
    s = client.post(
        f"{API}/sessions",
        json={"template_id": template["id"], "worktree_path": str(worktree), "idle_timeout_s": 0.5},
    ).json()
    closed = wait_for(
        lambda: (x := client.get(f"{API}/sessions/{s['id']}").json())["status"] == "closed" and x,
        timeout=30,
    )
    assert closed["last_error"] == "closed after 0.5 s without activity (idle timeout)"
    executions = client.get(f"{API}/executions", params={"session_id": s["id"]}).json()
    assert executions[0]["kind"] == "close"
    events = client.get(f"{API}/executions/{executions[0]['id']}/events").json()
    assert [(e["type"], e["payload"]["code"]) for e in events] == [
        ("system", "SESSION_IDLE_TIMEOUT")
    ]
    r = client.post(f"{API}/executions/repl", json={"session_id": s["id"], "input": "1"})
    assert_envelope(r, 409, "SESSION_NOT_READY")
