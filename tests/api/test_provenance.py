"""Template revisions and execution provenance over the real app and V8, on SQLite and on
PostgreSQL (when ``VMSYSTEM_TEST_POSTGRES_URL`` is set)."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import vmsystem
from vmsystem.libraries.cache import LibraryCache
from vmsystem.runtime import get_engine

from .conftest import API, create_session, create_template, repl

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def api(backend_client: TestClient) -> TestClient:
    return backend_client


def revision(api: TestClient, template_id: str) -> int:
    r = api.get(f"{API}/templates/{template_id}")
    assert r.status_code == 200, r.text
    return int(r.json()["template"]["revision"])


def test_a_new_template_is_at_revision_1(api: TestClient) -> None:
    template = create_template(api, "fresh")
    assert template["revision"] == 1
    assert revision(api, template["id"]) == 1
    assert api.get(f"{API}/templates").json()[0]["revision"] == 1


def test_every_kind_of_change_adds_one_to_the_revision(
    api: TestClient, worktree: Path, cache_dir: Path, tmp_path: Path
) -> None:
    (worktree / "init.js").write_text("globalThis.ready = true;")
    source = tmp_path / "tiny.js"
    source.write_text("globalThis.tiny = 1;")
    LibraryCache(cache_dir).add_local(source, "tiny", "1.0.0", "tiny")
    t = create_template(api, "changing")["id"]
    base = f"{API}/templates/{t}"
    changes: list[tuple[str, Callable[[], Any]]] = [
        ("settings", lambda: api.patch(base, json={"settings": {"limits": {"wall_ms": 900}}})),
        ("name", lambda: api.patch(base, json={"name": "changed"})),
        ("engine", lambda: api.patch(base, json={"engine": "v8"})),
        ("add module", lambda: api.post(f"{base}/modules", json={"name": "fs"})),
        ("remove module", lambda: api.delete(f"{base}/modules/fs")),
        ("add library", lambda: api.post(f"{base}/libraries", json={"name": "tiny"})),
        ("remove library", lambda: api.delete(f"{base}/libraries/tiny")),
    ]
    expected = 1
    for what, change in changes:
        r = change()
        assert r.status_code in (200, 201), (what, r.text)
        expected += 1
        assert revision(api, t) == expected, what
    cap = api.post(f"{base}/capabilities", json={"kind": "module", "name": "fs"})
    assert cap.status_code == 201, cap.text
    assert revision(api, t) == expected + 1
    assert api.delete(f"{base}/capabilities/{cap.json()['id']}").status_code == 200
    assert revision(api, t) == expected + 2
    startup = api.post(f"{base}/startup-files", json={"path": "init.js"})
    assert startup.status_code == 201, startup.text
    assert revision(api, t) == expected + 3
    assert api.delete(f"{base}/startup-files/{startup.json()['id']}").status_code == 200
    assert revision(api, t) == expected + 4


def test_a_failed_change_leaves_the_revision_alone(api: TestClient) -> None:
    t = create_template(api, "stable")["id"]
    create_template(api, "taken")
    assert api.patch(f"{API}/templates/{t}", json={"name": "taken"}).status_code == 409
    assert api.post(f"{API}/templates/{t}/modules", json={"name": "nope"}).status_code == 422
    assert revision(api, t) == 1


def test_an_execution_records_its_provenance(
    api: TestClient, worktree: Path, cache_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "tiny.js"
    source.write_text("globalThis.tiny = 41;")
    LibraryCache(cache_dir).add_local(source, "tiny", "1.0.0", "tiny")
    template = create_template(api, "traced")
    api.post(f"{API}/templates/{template['id']}/libraries", json={"name": "tiny"})
    session = create_session(api, template["id"], worktree)
    assert session["template_snapshot"]["revision"] == 2
    x = repl(api, session["id"], "tiny + 1")
    assert x["result"]["json"] == 42
    engine = get_engine("v8")
    expected = {
        "template_id": template["id"],
        "template_revision": 2,
        "engine": {"name": "v8", "version": engine.version},
        "vm_system_version": vmsystem.__version__,
        "host_id": session["host_id"],
        "libraries": [
            {
                "name": "tiny",
                "version": "1.0.0",
                "sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
            }
        ],
    }
    assert x["provenance"] == expected
    assert session["host_id"]
    # Stored: the same object is read back and listed.
    assert api.get(f"{API}/executions/{x['id']}").json()["provenance"] == expected
    listed = api.get(f"{API}/executions", params={"session_id": session["id"]}).json()
    assert listed[0]["provenance"] == expected


def test_provenance_keeps_the_snapshot_revision_until_a_refreshing_restart(
    api: TestClient, worktree: Path
) -> None:
    template = create_template(api, "moving")
    session = create_session(api, template["id"], worktree)
    api.patch(f"{API}/templates/{template['id']}", json={"settings": {"limits": {"wall_ms": 800}}})
    assert revision(api, template["id"]) == 2
    before = repl(api, session["id"], "1")
    assert before["provenance"]["template_revision"] == 1
    r = api.post(f"{API}/sessions/{session['id']}/restart", json={"refresh_template": True})
    assert r.status_code == 200, r.text
    after = repl(api, session["id"], "2")
    assert after["provenance"]["template_revision"] == 2
    assert after["provenance"]["libraries"] == []


def test_startup_executions_have_provenance_and_restarts_have_none(
    api: TestClient, worktree: Path
) -> None:
    (worktree / "boot.js").write_text("globalThis.booted = 1;")
    template = create_template(api, "booting")
    api.post(f"{API}/templates/{template['id']}/startup-files", json={"path": "boot.js"})
    session = create_session(api, template["id"], worktree)
    api.post(f"{API}/sessions/{session['id']}/restart", json={})
    listed = api.get(f"{API}/executions", params={"session_id": session["id"]}).json()
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for x in listed:
        by_kind.setdefault(x["kind"], []).append(x)
    assert all(x["provenance"]["template_revision"] == 2 for x in by_kind["startup"])
    assert [x["provenance"] for x in by_kind["restart"]] == [None]
