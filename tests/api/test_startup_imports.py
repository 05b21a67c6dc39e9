"""A daemon loads the libraries of its rarely used endpoints on first use: building the app and
serving a REPL run import neither the MCP SDK nor nbformat, and the first ``/mcp`` request and
the first notebook export load them (checked on ``sys.modules`` in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, sys
from fastapi.testclient import TestClient
from vmsystem.api import create_app
from vmsystem.core import open_system

seen = {}
def heavy():
    return sorted(m for m in ("mcp", "nbformat", "jsonschema") if m in sys.modules)

system = open_system(db=sys.argv[1], hosts="inprocess")
options = {"base_url": "http://localhost", "headers": {"X-Requested-With": "tests"}}
with TestClient(create_app(system), **options) as client:
    template = client.post("/api/v1/templates", json={"name": "t"}).json()
    session = client.post("/api/v1/sessions", json={"template_id": template["id"]}).json()
    run = client.post(
        "/api/v1/executions/repl", json={"session_id": session["id"], "input": "1+1"}
    )
    seen["after_run"] = heavy()
    seen["run_status"] = run.json()["status"]
    export = client.get(f"/api/v1/sessions/{session['id']}/export", params={"format": "ipynb"})
    seen["export_status"] = export.status_code
    seen["after_export"] = heavy()
    mcp = client.post(
        "/mcp",
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-03-26",
                "capabilities": {},
                "clientInfo": {"name": "probe", "version": "1"},
            },
        },
        headers={"Accept": "application/json, text/event-stream", **options["headers"]},
    )
    seen["mcp_status"] = mcp.status_code
    seen["after_mcp"] = heavy()
print(json.dumps(seen))
"""


def test_the_mcp_sdk_and_nbformat_load_on_first_use_not_at_start(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'vm.db'}"
    out = subprocess.run(
        [sys.executable, "-c", PROBE, db],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["run_status"] == "ok"
    assert seen["after_run"] == []
    assert seen["export_status"] == 200
    assert "nbformat" in seen["after_export"]
    assert "mcp" not in seen["after_export"]
    assert seen["mcp_status"] == 200
    assert "mcp" in seen["after_mcp"]
