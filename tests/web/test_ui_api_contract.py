"""The web UI's API client is checked against the daemon's own /openapi.json.

The UI's API types (ui/src/api/openapi.ts) are generated from that document by
openapi-typescript (``make ui-types``): regenerating them gives exactly the committed file.
Every route the UI calls (ui/src/api/client.ts) must exist with that method, and the UI's
request body types (ui/src/api/types.ts) must be the generated schemas of the routes' bodies.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from vmsystem.api.openapi import openapi_document

UI = Path(__file__).resolve().parents[2] / "ui"
UI_API = UI / "src" / "api"
CODEGEN = UI / "codegen"
CALL = re.compile(
    r"request<(?P<type>[^>]*)>\('(?P<method>[A-Z]+)', `(?P<path>[^`]+)`(?P<rest>[^)]*)"
)
ALIAS = re.compile(r"^export type (?P<name>\w+) = Schemas\['(?P<schema>\w+)'\];$", re.M)
BODY_TYPES = {
    ("POST", "/api/v1/templates"): "CreateTemplateRequest",
    ("PATCH", "/api/v1/templates/{}"): "UpdateTemplateRequest",
    ("POST", "/api/v1/templates/{}/capabilities"): "CreateCapabilityRequest",
    ("POST", "/api/v1/templates/{}/startup-files"): "CreateStartupFileRequest",
    ("POST", "/api/v1/sessions"): "CreateSessionRequest",
    ("POST", "/api/v1/executions/repl"): "ReplRequest",
    ("POST", "/api/v1/executions/run-file"): "RunFileRequest",
    ("POST", "/api/v1/libraries/downloads"): "LibraryDownloadRequest",
}


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def _ui_calls() -> set[tuple[str, str]]:
    source = (UI_API / "client.ts").read_text(encoding="utf-8")
    calls = set()
    for match in CALL.finditer(source):
        path = match["path"].replace("${P}", "/api/v1")
        # seg() encodes one path segment, filePath() a worktree path (the files routes).
        path = re.sub(r"\$\{(?:seg|filePath)\([^)]*\)\}", "{x}", path)
        calls.add((match["method"], _shape(path)))
    return calls


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return openapi_document()


def test_the_ui_api_types_are_the_ones_generated_from_the_openapi_document(
    openapi: dict[str, Any], tmp_path: Path
) -> None:
    cli = CODEGEN / "node_modules" / "openapi-typescript" / "bin" / "cli.js"
    node = shutil.which("node")
    assert node and cli.exists(), "the generator is not installed: run make ui-types"
    # ui/codegen's own script, run in a copy of its directory (its paths are relative)
    script = json.loads((CODEGEN / "package.json").read_text())["scripts"]["api-types"]
    command = shlex.split(script)
    assert command[0] == "openapi-typescript"
    workdir = tmp_path / "codegen"
    workdir.mkdir()
    (tmp_path / "src" / "api").mkdir(parents=True)
    (workdir / "openapi.json").write_text(json.dumps(openapi, indent=2), encoding="utf-8")
    subprocess.run([node, str(cli), *command[1:]], cwd=workdir, check=True, capture_output=True)
    generated = (tmp_path / "src" / "api" / "openapi.ts").read_text(encoding="utf-8")
    committed = (UI_API / "openapi.ts").read_text(encoding="utf-8")
    assert committed == generated, "ui/src/api/openapi.ts is stale: run make ui-types"


def test_the_ui_error_codes_are_the_daemon_s(openapi: dict[str, Any]) -> None:
    from vmsystem.api.errors import STATUS_BY_CODE

    body = openapi["components"]["schemas"]["ErrorBody"]
    assert set(body["properties"]["code"]["enum"]) == set(STATUS_BY_CODE)
    types = (UI_API / "types.ts").read_text(encoding="utf-8")
    assert "export type ErrorCode = Schemas['ErrorBody']['code'];" in types


def test_every_ui_call_is_a_daemon_route(openapi: dict[str, Any]) -> None:
    routes = {
        (method.upper(), _shape(path)) for path, ops in openapi["paths"].items() for method in ops
    }
    calls = _ui_calls()
    assert len(calls) >= 25, "the client.ts parser found too few calls"
    assert calls - routes == set()


def test_ui_request_bodies_are_the_generated_body_schemas(openapi: dict[str, Any]) -> None:
    types = (UI_API / "types.ts").read_text(encoding="utf-8")
    aliases = {m["name"]: m["schema"] for m in ALIAS.finditer(types)}
    by_shape = {
        (method.upper(), _shape(path)): op
        for path, ops in openapi["paths"].items()
        for method, op in ops.items()
    }
    for key, ts_type in BODY_TYPES.items():
        ref = by_shape[key]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert aliases.get(ts_type) == ref.rsplit("/", 1)[1], (ts_type, ref)
