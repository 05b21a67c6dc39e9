"""The web UI's API client is checked against the daemon's own /openapi.json.

Every route the UI calls (ui/src/api/client.ts) must exist with that method, and every field
of the UI's request bodies (ui/src/api/types.ts) must be a property of the route's body schema
(the daemon rejects unknown fields with 400 INVALID_REQUEST).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from vmsystem.api import create_app
from vmsystem.core import VmSystem

UI_API = Path(__file__).resolve().parents[2] / "ui" / "src" / "api"
CALL = re.compile(
    r"request<(?P<type>[^>]*)>\('(?P<method>[A-Z]+)', `(?P<path>[^`]+)`(?P<rest>[^)]*)"
)
INTERFACE = re.compile(r"export interface (?P<name>\w+) \{(?P<body>[^}]*)\}", re.S)
FIELD = re.compile(r"^\s*(?P<name>\w+)\??:", re.M)
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
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from vmsystem.core import open_system

    base = tmp_path_factory.mktemp("openapi")
    system: VmSystem = open_system(str(base / "vm.db"), cache_dir=base)
    try:
        return create_app(system, close_on_shutdown=False).openapi()
    finally:
        system.close()


def test_every_ui_call_is_a_daemon_route(openapi: dict[str, Any]) -> None:
    routes = {
        (method.upper(), _shape(path)) for path, ops in openapi["paths"].items() for method in ops
    }
    calls = _ui_calls()
    assert len(calls) >= 25, "the client.ts parser found too few calls"
    assert calls - routes == set()


def test_ui_request_bodies_only_use_fields_the_daemon_accepts(openapi: dict[str, Any]) -> None:
    types = (UI_API / "types.ts").read_text(encoding="utf-8")
    interfaces = {m["name"]: set(FIELD.findall(m["body"])) for m in INTERFACE.finditer(types)}
    schemas = openapi["components"]["schemas"]
    by_shape = {
        (method.upper(), _shape(path)): op
        for path, ops in openapi["paths"].items()
        for method, op in ops.items()
    }
    for key, ts_type in BODY_TYPES.items():
        ref = by_shape[key]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        properties = set(schemas[ref.rsplit("/", 1)[1]]["properties"])
        assert interfaces[ts_type], f"{ts_type} not found in types.ts"
        assert interfaces[ts_type] <= properties, (ts_type, interfaces[ts_type] - properties)
