"""Sessions over HTTP: create, read, list with filters, close (idempotent), summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vmsystem.core import VmSystem

from .conftest import API, TestClient, create_session, create_template, repl
from .helpers import UUID, after_millisecond, assert_envelope, wait_for

SESSION_KEYS = {
    "id",
    "template_id",
    "workspace_id",
    "base_commit_oid",
    "worktree_path",
    "worktree_managed",
    "worktree_removed_at",
    "status",
    "created_at",
    "last_activity_at",
    "closed_at",
    "last_error",
    "template_snapshot",
    "host_id",
    "recovered_at",
    "recovery_count",
    "idle_timeout_s",
}


def test_create_session_answers_201_ready_with_snapshot(
    client: TestClient, template: dict[str, Any], worktree: Path
) -> None:
    r = client.post(
        f"{API}/sessions",
        json={
            "template_id": template["id"],
            "worktree_path": str(worktree),
            "workspace_id": "ws-1",
            "base_commit_oid": "abc123",
        },
    )
    assert r.status_code == 201
    s = r.json()
    assert set(s) == SESSION_KEYS
    assert UUID.match(s["id"])
    assert (s["template_id"], s["status"], s["workspace_id"], s["base_commit_oid"]) == (
        template["id"],
        "ready",
        "ws-1",
        "abc123",
    )
    assert s["worktree_path"] == str(worktree.resolve())
    assert s["closed_at"] is None and s["last_error"] is None
    assert s["host_id"] == "local"  # the app fixture's system keeps runtimes in-process
    snap = s["template_snapshot"]
    assert snap["name"] == template["name"] and snap["engine"] == "v8"
    assert snap["settings"] == template["settings"]
    assert snap["modules"] == [] and snap["libraries"] == []
    assert snap["capabilities"] == [] and snap["startup_files"] == []


def test_session_can_be_created_from_a_template_name(
    client: TestClient, template: dict[str, Any], worktree: Path
) -> None:
    s = create_session(client, template["name"], worktree)
    assert s["template_id"] == template["id"]


def test_session_list_is_empty_list_then_newest_first_with_filters(
    client: TestClient, worktree: Path
) -> None:
    assert client.get(f"{API}/sessions").json() == []
    a = create_template(client, "a")
    b = create_template(client, "b")
    s1 = create_session(client, a["id"], worktree)
    after_millisecond(s1["created_at"])
    s2 = create_session(client, b["id"], worktree)
    after_millisecond(s2["created_at"])
    s3 = create_session(client, a["id"], worktree)
    client.post(f"{API}/sessions/{s1['id']}/close")
    ids = lambda q="": [s["id"] for s in client.get(f"{API}/sessions{q}").json()]  # noqa: E731
    assert ids() == [s3["id"], s2["id"], s1["id"]]
    assert ids("?status=ready") == [s3["id"], s2["id"]]
    assert ids("?status=closed") == [s1["id"]]
    assert ids("?status=crashed") == []
    assert ids(f"?template_id={a['id']}") == [s3["id"], s1["id"]]
    assert ids(f"?template_id={a['id'].upper()}&status=ready") == [s3["id"]]


def test_close_is_idempotent_and_delete_is_an_alias(
    client: TestClient, session: dict[str, Any]
) -> None:
    url = f"{API}/sessions/{session['id']}"
    r = client.post(f"{url}/close")
    assert r.status_code == 200
    closed = r.json()
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    assert closed["last_error"] is None
    assert closed["host_id"] is None
    again = client.post(f"{url}/close")
    assert (again.status_code, again.json()) == (200, closed)
    deleted = client.delete(url)
    assert (deleted.status_code, deleted.json()) == (200, closed)
    assert client.get(url).json() == closed, "the row is kept"


def test_delete_closes_a_ready_session(client: TestClient, session: dict[str, Any]) -> None:
    r = client.delete(f"{API}/sessions/{session['id']}")
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert client.get(f"{API}/runtime/summary").json()["active_sessions"] == 0


def test_closing_a_session_cancels_its_running_execution(
    client: TestClient, session: dict[str, Any]
) -> None:
    running = repl(client, session["id"], "while(true){}", status=202, stream=True)
    r = client.post(f"{API}/sessions/{session['id']}/close")
    assert r.status_code == 200 and r.json()["status"] == "closed"
    x = wait_for(
        lambda: (
            (e := client.get(f"{API}/executions/{running['id']}").json())["status"] != "running"
            and e
        )
    )
    assert x["status"] == "cancelled"


def test_runtime_summary_counts_only_live_runtimes(
    client: TestClient, template: dict[str, Any], worktree: Path, vm: VmSystem
) -> None:
    r = client.get(f"{API}/runtime/summary")
    assert r.status_code == 200
    summary = r.json()
    assert set(summary) == {
        "active_sessions",
        "active_session_ids",
        "running_executions",
        "engine",
        "version",
        "uptime_s",
        "db",
        "hosts",
        "daemon_id",
        "daemons",
    }
    assert (summary["active_sessions"], summary["active_session_ids"]) == (0, [])
    (host,) = summary["hosts"]
    assert (host["id"], host["kind"], host["sessions"], host["alive"]) == (
        "local",
        "inprocess",
        0,
        True,
    )
    assert summary["running_executions"] == 0
    assert summary["version"] == vm.version
    assert summary["engine"]["name"] == "v8"
    assert set(summary["db"]) == {"url", "schema_version"} and summary["db"]["schema_version"]
    assert summary["uptime_s"] >= 0

    s1 = create_session(client, template["id"], worktree)
    s2 = create_session(client, template["id"], worktree)
    (worktree / "boom.js").write_text("throw new Error('x')")
    crashing = create_template(client, "crashing")
    client.post(f"{API}/templates/{crashing['id']}/startup-files", json={"path": "boom.js"})
    assert (
        client.post(
            f"{API}/sessions", json={"template_id": crashing["id"], "worktree_path": str(worktree)}
        ).status_code
        == 422
    )
    summary = client.get(f"{API}/runtime/summary").json()
    assert summary["active_sessions"] == 2
    assert summary["active_session_ids"] == sorted([s1["id"], s2["id"]])
    client.post(f"{API}/sessions/{s1['id']}/close")
    assert client.get(f"{API}/runtime/summary").json()["active_session_ids"] == [s2["id"]]


def test_running_executions_are_counted_in_the_summary(
    client: TestClient, session: dict[str, Any]
) -> None:
    running = repl(client, session["id"], "while(true){}", status=202, stream=True)
    assert client.get(f"{API}/runtime/summary").json()["running_executions"] == 1
    client.post(f"{API}/executions/{running['id']}/cancel")
    assert client.get(f"{API}/runtime/summary").json()["running_executions"] == 0


def test_session_ids_in_any_uuid_spelling_are_accepted_and_normalised(
    client: TestClient, session: dict[str, Any]
) -> None:
    sid = session["id"]
    spellings = [sid.upper(), "{" + sid + "}", "urn:uuid:" + sid, sid.replace("-", "")]
    for spelling in spellings:
        r = client.get(f"{API}/sessions/{spelling}")
        assert r.status_code == 200, spelling
        assert r.json()["id"] == sid
        x = repl(client, spelling, "1")
        assert x["session_id"] == sid
    listed = client.get(f"{API}/executions", params={"session_id": "URN:UUID:" + sid.upper()})
    assert len(listed.json()) == len(spellings)
    assert client.post(f"{API}/sessions/{{{sid.upper()}}}/close").json()["id"] == sid


def test_purge_deletes_a_closed_session_with_its_executions_and_events(
    client: TestClient, session: dict[str, Any]
) -> None:
    url = f"{API}/sessions/{session['id']}"
    run = repl(client, session["id"], "console.log('x'); 1")
    client.post(f"{url}/close")
    r = client.delete(url, params={"purge": "true"})
    assert (r.status_code, r.json()) == (
        200,
        {"status": "ok", "session_id": session["id"], "purged": True},
    )
    assert_envelope(client.get(url), 404, "SESSION_NOT_FOUND")
    assert_envelope(client.get(f"{API}/executions/{run['id']}"), 404, "EXECUTION_NOT_FOUND")
    assert session["id"] not in [s["id"] for s in client.get(f"{API}/sessions").json()]
    assert_envelope(client.delete(url, params={"purge": "true"}), 404, "SESSION_NOT_FOUND")


def test_a_failed_start_is_kept_crashed_names_its_id_and_can_be_purged(
    client: TestClient, template: dict[str, Any], worktree: Path
) -> None:
    (worktree / "boom.js").write_text("throw new Error('nope')")
    client.post(
        f"{API}/templates/{template['id']}/startup-files",
        json={"path": "boom.js", "order_index": 1, "mode": "eval"},
    )
    r = client.post(
        f"{API}/sessions", json={"template_id": template["id"], "worktree_path": str(worktree)}
    )
    error = assert_envelope(r, 422, "STARTUP_FAILED")
    sid = error["details"]["session_id"]
    kept = client.get(f"{API}/sessions/{sid}").json()
    assert kept["status"] == "crashed" and "nope" in kept["last_error"]
    startup = client.get(f"{API}/executions", params={"session_id": sid}).json()
    assert [e["kind"] for e in startup] == ["startup"], "its startup log is kept"
    assert client.delete(f"{API}/sessions/{sid}", params={"purge": "true"}).status_code == 200
    assert_envelope(client.get(f"{API}/sessions/{sid}"), 404, "SESSION_NOT_FOUND")
