"""POST /api/v1/sessions/{id}/fork: a new session with the source's history replayed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from .conftest import API, create_session
from .helpers import UUID, assert_envelope

SESSION_ID = "0d2f6c1e-0000-4000-8000-000000000000"


def _repl(client: TestClient, sid: str, code: str) -> dict[str, Any]:
    r = client.post(f"{API}/executions/repl", json={"session_id": sid, "input": code})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_fork_answers_201_with_the_session_the_count_and_the_divergences(
    client: TestClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    first = _repl(client, sid, "globalThis.v = 40; v")
    random = _repl(client, sid, "Math.random()")

    r = client.post(f"{API}/sessions/{sid}/fork")

    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"session", "replayed", "diverged"}
    fork = body["session"]
    assert UUID.match(fork["id"]) and fork["id"] != sid
    assert (fork["status"], fork["template_id"]) == ("ready", session["template_id"])
    assert body["replayed"] == 2
    [diverged] = body["diverged"]
    assert diverged["original"] == random["id"]
    assert diverged["reason"] == "different value"
    listed = client.get(f"{API}/executions?session_id={fork['id']}").json()
    assert [x["replay_of"] for x in reversed(listed)] == [first["id"], random["id"]]
    replay = client.get(f"{API}/executions/{diverged['replay']}").json()
    assert (replay["session_id"], replay["replay_of"]) == (fork["id"], random["id"])
    assert first["replay_of"] is None


def test_fork_until_an_execution_replays_up_to_it(
    client: TestClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    first = _repl(client, sid, "1")
    _repl(client, sid, "2")
    r = client.post(f"{API}/sessions/{sid}/fork", json={"until_execution_id": first["id"]})
    assert r.status_code == 201, r.text
    assert (r.json()["replayed"], r.json()["diverged"]) == (1, [])


def test_fork_of_unknown_session_or_execution_is_404(
    client: TestClient, session: dict[str, Any]
) -> None:
    assert_envelope(client.post(f"{API}/sessions/{SESSION_ID}/fork"), 404, "SESSION_NOT_FOUND")
    r = client.post(f"{API}/sessions/{session['id']}/fork", json={"until_execution_id": SESSION_ID})
    assert_envelope(r, 404, "EXECUTION_NOT_FOUND")


def test_fork_until_an_execution_of_another_session_is_422(
    client: TestClient, session: dict[str, Any], worktree: Path
) -> None:
    other = create_session(client, session["template_id"], worktree)
    foreign = _repl(client, other["id"], "1")["id"]
    r = client.post(f"{API}/sessions/{session['id']}/fork", json={"until_execution_id": foreign})
    assert_envelope(r, 422, "INVALID_FORK_POINT")


def test_a_closed_session_can_be_forked_from_its_kept_snapshot(
    client: TestClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    _repl(client, sid, "globalThis.kept = 'yes'")
    assert client.post(f"{API}/sessions/{sid}/close").status_code == 200
    r = client.post(f"{API}/sessions/{sid}/fork")
    assert r.status_code == 201, r.text
    fork = r.json()["session"]
    assert (
        fork["template_snapshot"] == client.get(f"{API}/sessions/{sid}").json()["template_snapshot"]
    )
    assert _repl(client, fork["id"], "kept")["result"]["json"] == "yes"


def test_an_unknown_body_field_is_refused(client: TestClient, session: dict[str, Any]) -> None:
    r = client.post(f"{API}/sessions/{session['id']}/fork", json={"until": "x"})
    assert r.status_code in (400, 422)
    assert "error" in r.json()


def test_in_deterministic_mode_no_replay_diverges(client: TestClient, worktree: Path) -> None:
    r = client.post(f"{API}/templates", json={"name": "fork-deterministic"})
    template = r.json()
    client.patch(
        f"{API}/templates/{template['id']}", json={"settings": {"deterministic": {"seed": 7}}}
    )
    sid = create_session(client, template["id"], worktree)["id"]
    _repl(client, sid, "globalThis.r = Math.random(); console.log(new Date().toISOString()); r")
    _repl(client, sid, "[Math.random(), Date.now(), performance.now(), crypto.randomUUID()]")
    _repl(client, sid, "crypto.getRandomValues(new Uint8Array(8)).join(',')")

    body = client.post(f"{API}/sessions/{sid}/fork").json()

    assert (body["replayed"], body["diverged"]) == (3, [])
