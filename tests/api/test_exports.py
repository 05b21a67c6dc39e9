"""GET /sessions/{id}/export and POST /sessions/{id}/notebook over the real app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import orjson
from fastapi.testclient import TestClient

from .conftest import API, create_session, create_template, repl
from .helpers import is_envelope

MISSING = "00000000-0000-4000-8000-000000000000"


def _notebook(*sources: str) -> dict[str, Any]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return dict(orjson.loads(orjson.dumps(nb)))


def _valid(body: Any) -> Any:
    nb = nbformat.from_dict(body)
    nbformat.validate(nb)
    return nb


def test_export_formats_have_their_media_types_and_file_names(
    client: TestClient, worktree: Path
) -> None:
    (worktree / "init.js").write_text("console.log('starting')")
    template = create_template(client, "export")
    client.post(f"{API}/templates/{template['id']}/startup-files", json={"path": "init.js"})
    sid = create_session(client, template["id"], worktree)["id"]
    repl(client, sid, "console.log('a'); [1, 2]")
    client.post(f"{API}/sessions/{sid}/restart")
    repl(client, sid, "throw new RangeError('r')")
    expected = {
        "ipynb": "application/x-ipynb+json",
        "md": "text/markdown; charset=utf-8",
        "jsonl": "application/x-ndjson",
    }
    bodies = {}
    for fmt, media in expected.items():
        r = client.get(f"{API}/sessions/{sid}/export", params={"format": fmt})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == media
        assert r.headers["content-disposition"] == (f'attachment; filename="session-{sid}.{fmt}"')
        bodies[fmt] = r.content
    nb = _valid(orjson.loads(bodies["ipynb"]))
    kinds = [c.metadata.vmsystem.kind for c in nb.cells]
    assert kinds == ["startup", "repl", "restart", "startup", "repl"]
    assert nb.cells[0].source == "// vm-system startup file: init.js"
    assert nb.cells[2].cell_type == "markdown"
    assert nb.cells[1].outputs[1].data["application/json"] == [1, 2]
    assert nb.cells[4].outputs[0].ename == "RangeError"
    lines = [orjson.loads(line) for line in bodies["jsonl"].splitlines()]
    listed = client.get(f"{API}/executions", params={"session_id": sid}).json()
    assert [{k: v for k, v in x.items() if k != "events"} for x in lines] == listed[::-1]
    first_events = client.get(f"{API}/executions/{lines[1]['id']}/events").json()
    assert lines[1]["events"] == first_events
    assert b"```js\nconsole.log('a'); [1, 2]\n```" in bodies["md"]
    default = client.get(f"{API}/sessions/{sid}/export")
    assert default.headers["content-type"] == "application/x-ipynb+json"


def test_export_refuses_an_unknown_format_and_session(client: TestClient, worktree: Path) -> None:
    template = create_template(client, "bad-export")
    sid = create_session(client, template["id"], worktree)["id"]
    r = client.get(f"{API}/sessions/{sid}/export", params={"format": "pdf"})
    assert r.status_code == 400
    assert is_envelope(r.json())
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    r = client.get(f"{API}/sessions/{MISSING}/export", params={"format": "md"})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "SESSION_NOT_FOUND"
    r = client.get(f"{API}/sessions/not-a-uuid/export")
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"


def test_notebook_runs_cells_and_stops_at_the_first_error(
    client: TestClient, worktree: Path
) -> None:
    template = create_template(client, "nb")
    sid = create_session(client, template["id"], worktree)["id"]
    nb = _notebook("let n = 41", "console.log('n', n); n + 1", "nope()", "n")
    r = client.post(f"{API}/sessions/{sid}/notebook", json=nb)
    assert r.status_code == 200, r.text
    ran = _valid(r.json())
    assert [c.execution_count for c in ran.cells] == [1, 2, 3, None]
    assert ran.cells[1].outputs[0].text == "n 41\n"
    assert ran.cells[1].outputs[1].data["text/plain"] == "42"
    assert ran.cells[2].outputs[0].ename == "ReferenceError"
    assert ran.cells[3].metadata.vmsystem.status == "skipped"
    listed = client.get(f"{API}/executions", params={"session_id": sid}).json()
    assert [c.metadata.vmsystem.execution_id for c in ran.cells[:3]] == [
        x["id"] for x in listed[::-1]
    ]


def test_notebook_continues_on_error_in_the_wrapper_or_the_query(
    client: TestClient, worktree: Path
) -> None:
    template = create_template(client, "nb-continue")
    sid = create_session(client, template["id"], worktree)["id"]
    nb = _notebook("nope()", "'after'")
    wrapped = {"notebook": nb, "continue_on_error": True}
    ran = _valid(client.post(f"{API}/sessions/{sid}/notebook", json=wrapped).json())
    assert ran.cells[1].outputs[0].data["application/json"] == "after"
    r = client.post(f"{API}/sessions/{sid}/notebook?continue_on_error=true", json=nb)
    assert _valid(r.json()).cells[1].execution_count == 2


def test_notebook_refuses_invalid_notebooks_in_the_envelope(
    client: TestClient, worktree: Path
) -> None:
    template = create_template(client, "nb-invalid")
    sid = create_session(client, template["id"], worktree)["id"]
    bad = _notebook("1")
    del bad["cells"][0]["source"]
    for body in (bad, {"cells": "no"}, [1], {"notebook": bad, "continue_on_error": "yes"}):
        r = client.post(f"{API}/sessions/{sid}/notebook", json=body)
        assert r.status_code == 400, r.text
        assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    r = client.post(f"{API}/sessions/{sid}/notebook", json=bad)
    assert "invalid notebook" in r.json()["error"]["message"]
    assert "source" in r.json()["error"]["message"]
    r = client.post(
        f"{API}/sessions/{sid}/notebook",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    r = client.post(f"{API}/sessions/{MISSING}/notebook", json=_notebook("1"))
    assert r.status_code == 404
    assert client.get(f"{API}/executions", params={"session_id": sid}).json() == []


def test_notebook_larger_than_the_request_limit_is_refused(
    make_client: Any, worktree: Path
) -> None:
    client = make_client(max_request_bytes=2048)
    template = create_template(client, "nb-big")
    sid = create_session(client, template["id"], worktree)["id"]
    r = client.post(f"{API}/sessions/{sid}/notebook", json=_notebook("'" + "x" * 4096 + "'"))
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
