"""A run whose final row cannot be committed is not reported: the client gets 503
STORE_UNAVAILABLE naming the execution, and its row, written again without the result, is
``error`` STORE_UNAVAILABLE (not left ``running``), on SQLite and on PostgreSQL (when
``VMSYSTEM_TEST_POSTGRES_URL`` is set). The store's write fails for real: the ``events`` table
is renamed away by another connection while the run goes on."""

from __future__ import annotations

import threading
import time
import warnings
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from vmsystem.store.engine import resolve_url

from .conftest import API, create_session, create_template

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_a_run_whose_final_write_fails_is_503_not_its_result(
    backend_client: TestClient, backend_db: str, worktree: Path
) -> None:
    api = backend_client
    template = create_template(api, "unstored")
    assert api.post(f"{API}/templates/{template['id']}/modules", json={"name": "fs"}).is_success
    session = create_session(api, template["id"], worktree)
    code = "while (!require('fs').existsSync('go.flag')) {} 'the result'"
    answers: list[Any] = []
    run = threading.Thread(
        target=lambda: answers.append(
            api.post(f"{API}/executions/repl", json={"session_id": session["id"], "input": code})
        )
    )
    run.start()
    deadline = time.monotonic() + 60
    while True:  # its running row is committed: the code runs
        listed = api.get(f"{API}/executions", params={"session_id": session["id"]}).json()
        if listed and listed[0]["status"] == "running":
            break
        assert time.monotonic() < deadline, listed
        time.sleep(0.02)
    engine = create_engine(resolve_url(backend_db))
    try:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE events RENAME TO events_gone"))
        (worktree / "go.flag").write_text("go")
        run.join(60)
        (r,) = answers
        assert r.status_code == 503, r.text
        error = r.json()["error"]
        assert error["code"] == "STORE_UNAVAILABLE"
        assert "not reported" in error["message"]
        assert error["details"]["execution_id"] == listed[0]["id"]
        assert "the result" not in r.text
        # The row, written again without its result, does not stay running.
        row = api.get(f"{API}/executions/{listed[0]['id']}").json()
        assert row["status"] == "error" and row["error"]["code"] == "STORE_UNAVAILABLE", row
        assert row["result"] is None
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE events_gone RENAME TO events"))
        again = api.post(f"{API}/executions/repl", json={"session_id": session["id"], "input": "2"})
        assert again.status_code == 201 and again.json()["result"]["json"] == 2, again.text
    finally:
        engine.dispose()
