"""Every route of docs/http-api.md is reachable through the SDK, with the right request."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import Facade
from .test_files import FILE_ROUTES

DOCS = Path(__file__).resolve().parents[2] / "docs" / "http-api.md"
T, S, E = "t-1", "s-1", "e-1"

# (sdk method, args, kwargs, HTTP method, path, query, body)
ROUTES: list[tuple[str, tuple[Any, ...], dict[str, Any], str, str, dict[str, str], Any]] = [
    ("health", (), {}, "GET", "/api/v1/health", {}, None),
    ("runtime_summary", (), {}, "GET", "/api/v1/runtime/summary", {}, None),
    ("drain_host", ("h-1",), {}, "POST", "/api/v1/runtime/hosts/h-1/drain", {}, None),
    ("list_templates", (), {}, "GET", "/api/v1/templates", {}, None),
    ("create_template", ("demo",), {}, "POST", "/api/v1/templates", {}, {"name": "demo"}),
    (
        "create_template",
        ("demo",),
        {"engine": "goja"},
        "POST",
        "/api/v1/templates",
        {},
        {"name": "demo", "engine": "goja"},
    ),
    ("get_template", (T,), {}, "GET", f"/api/v1/templates/{T}", {}, None),
    (
        "update_template",
        (T,),
        {"settings": {"limits": {"wall_ms": 200}}},
        "PATCH",
        f"/api/v1/templates/{T}",
        {},
        {"settings": {"limits": {"wall_ms": 200}}},
    ),
    (
        "update_template",
        (T,),
        {"name": "n", "engine": "v8"},
        "PATCH",
        f"/api/v1/templates/{T}",
        {},
        {"name": "n", "engine": "v8"},
    ),
    ("delete_template", (T,), {}, "DELETE", f"/api/v1/templates/{T}", {}, None),
    ("list_capabilities", (T,), {}, "GET", f"/api/v1/templates/{T}/capabilities", {}, None),
    (
        "add_capability",
        (T, "exec", "run"),
        {"config": {"allow": ["ls"]}},
        "POST",
        f"/api/v1/templates/{T}/capabilities",
        {},
        {"kind": "exec", "name": "run", "enabled": True, "config": {"allow": ["ls"]}},
    ),
    (
        "remove_capability",
        (T, "c-1"),
        {},
        "DELETE",
        f"/api/v1/templates/{T}/capabilities/c-1",
        {},
        None,
    ),
    ("list_modules", (T,), {}, "GET", f"/api/v1/templates/{T}/modules", {}, None),
    ("add_module", (T, "fs"), {}, "POST", f"/api/v1/templates/{T}/modules", {}, {"name": "fs"}),
    ("remove_module", (T, "fs"), {}, "DELETE", f"/api/v1/templates/{T}/modules/fs", {}, None),
    ("list_libraries", (T,), {}, "GET", f"/api/v1/templates/{T}/libraries", {}, None),
    (
        "add_library",
        (T, "lodash@4.17.21"),
        {},
        "POST",
        f"/api/v1/templates/{T}/libraries",
        {},
        {"name": "lodash@4.17.21"},
    ),
    (
        "remove_library",
        (T, "lodash@4.17.21"),
        {},
        "DELETE",
        f"/api/v1/templates/{T}/libraries/lodash@4.17.21",
        {},
        None,
    ),
    ("list_startup_files", (T,), {}, "GET", f"/api/v1/templates/{T}/startup-files", {}, None),
    (
        "add_startup_file",
        (T, "init.js"),
        {"order_index": 10},
        "POST",
        f"/api/v1/templates/{T}/startup-files",
        {},
        {"path": "init.js", "order_index": 10, "mode": "eval"},
    ),
    (
        "remove_startup_file",
        (T, "sf-1"),
        {},
        "DELETE",
        f"/api/v1/templates/{T}/startup-files/sf-1",
        {},
        None,
    ),
    ("list_sessions", (), {}, "GET", "/api/v1/sessions", {}, None),
    (
        "list_sessions",
        (),
        {"status": "ready", "template_id": T},
        "GET",
        "/api/v1/sessions",
        {"status": "ready", "template_id": T},
        None,
    ),
    (
        "create_session",
        ("demo", "/w"),
        {"workspace_id": "ws", "base_commit_oid": "abc"},
        "POST",
        "/api/v1/sessions",
        {},
        {
            "template_id": "demo",
            "worktree_path": "/w",
            "workspace_id": "ws",
            "base_commit_oid": "abc",
        },
    ),
    (
        "create_session",
        (T, "/w"),
        {},
        "POST",
        "/api/v1/sessions",
        {},
        {"template_id": T, "worktree_path": "/w"},
    ),
    ("get_session", (S,), {}, "GET", f"/api/v1/sessions/{S}", {}, None),
    ("close_session", (S,), {}, "POST", f"/api/v1/sessions/{S}/close", {}, None),
    ("delete_session", (S,), {}, "DELETE", f"/api/v1/sessions/{S}", {}, None),
    ("purge_session", (S,), {}, "DELETE", f"/api/v1/sessions/{S}", {"purge": "true"}, None),
    (
        "restart_session",
        (S,),
        {},
        "POST",
        f"/api/v1/sessions/{S}/restart",
        {},
        {"refresh_template": False},
    ),
    (
        "restart_session",
        (S,),
        {"refresh_template": True},
        "POST",
        f"/api/v1/sessions/{S}/restart",
        {},
        {"refresh_template": True},
    ),
    (
        "complete",
        (S, "Math.ma"),
        {},
        "POST",
        f"/api/v1/sessions/{S}/complete",
        {},
        {"code": "Math.ma"},
    ),
    (
        "complete",
        (S, "Math.ma(1)"),
        {"cursor": 7},
        "POST",
        f"/api/v1/sessions/{S}/complete",
        {},
        {"code": "Math.ma(1)", "cursor": 7},
    ),
    ("fork_session", (S,), {}, "POST", f"/api/v1/sessions/{S}/fork", {}, {}),
    (
        "fork_session",
        (S,),
        {"until_execution_id": E},
        "POST",
        f"/api/v1/sessions/{S}/fork",
        {},
        {"until_execution_id": E},
    ),
    (
        "export_session",
        (S,),
        {},
        "GET",
        f"/api/v1/sessions/{S}/export",
        {"format": "ipynb"},
        None,
    ),
    (
        "export_session",
        (S, "jsonl"),
        {},
        "GET",
        f"/api/v1/sessions/{S}/export",
        {"format": "jsonl"},
        None,
    ),
    (
        "run_notebook",
        (S, {"cells": []}),
        {},
        "POST",
        f"/api/v1/sessions/{S}/notebook",
        {},
        {"notebook": {"cells": []}, "continue_on_error": False},
    ),
    (
        "run_notebook",
        (S, {"cells": []}),
        {"continue_on_error": True},
        "POST",
        f"/api/v1/sessions/{S}/notebook",
        {},
        {"notebook": {"cells": []}, "continue_on_error": True},
    ),
    ("list_executions", (), {}, "GET", "/api/v1/executions", {}, None),
    (
        "search_executions",
        ("quick fox",),
        {},
        "GET",
        "/api/v1/executions/search",
        {"q": "quick fox"},
        None,
    ),
    (
        "search_executions",
        ('"NEAR*',),
        {"session_id": S, "limit": 5, "offset": 10},
        "GET",
        "/api/v1/executions/search",
        {"q": '"NEAR*', "session_id": S, "limit": "5", "offset": "10"},
        None,
    ),
    (
        "list_executions",
        (S,),
        {"limit": 5},
        "GET",
        "/api/v1/executions",
        {"session_id": S, "limit": "5"},
        None,
    ),
    (
        "run_repl",
        (S, "1+1"),
        {},
        "POST",
        "/api/v1/executions/repl",
        {},
        {"session_id": S, "input": "1+1"},
    ),
    (
        "run_repl",
        (S, "1+1"),
        {"stream": True},
        "POST",
        "/api/v1/executions/repl",
        {},
        {"session_id": S, "input": "1+1", "stream": True},
    ),
    (
        "run_repl",
        (S, "const n: number = 1"),
        {"language": "typescript"},
        "POST",
        "/api/v1/executions/repl",
        {},
        {"session_id": S, "input": "const n: number = 1", "language": "typescript"},
    ),
    (
        "run_file",
        (S, "a.js"),
        {"args": {"n": 1}, "env": {"K": "v"}},
        "POST",
        "/api/v1/executions/run-file",
        {},
        {"session_id": S, "path": "a.js", "args": {"n": 1}, "env": {"K": "v"}},
    ),
    ("get_execution", (E,), {}, "GET", f"/api/v1/executions/{E}", {}, None),
    ("cancel_execution", (E,), {}, "POST", f"/api/v1/executions/{E}/cancel", {}, None),
    (
        "list_events",
        (E,),
        {"after_seq": 3, "limit": 10},
        "GET",
        f"/api/v1/executions/{E}/events",
        {"after_seq": "3", "limit": "10"},
        None,
    ),
    ("module_catalog", (), {}, "GET", "/api/v1/metadata/modules", {}, None),
    ("library_catalog", (), {}, "GET", "/api/v1/metadata/libraries", {}, None),
    (
        "start_library_download",
        (["lodash", "dayjs@1.11.10"],),
        {},
        "POST",
        "/api/v1/libraries/downloads",
        {},
        {"names": ["lodash", "dayjs@1.11.10"]},
    ),
    ("list_library_downloads", (), {}, "GET", "/api/v1/libraries/downloads", {}, None),
    ("get_library_download", ("d-1",), {}, "GET", "/api/v1/libraries/downloads/d-1", {}, None),
    (
        "cancel_library_download",
        ("d-1",),
        {},
        "POST",
        "/api/v1/libraries/downloads/d-1/cancel",
        {},
        None,
    ),
    ("engine_catalog", (), {}, "GET", "/api/v1/metadata/engines", {}, None),
    ("capability_catalog", (), {}, "GET", "/api/v1/metadata/capabilities", {}, None),
    ("metrics", (), {}, "GET", "/metrics", {}, None),
    ("openapi", (), {}, "GET", "/openapi.json", {}, None),
]
# Routes reached through the stream helpers (tested in test_streams.py).
STREAM_ROUTES = {
    ("GET", "/api/v1/sessions/{}/events/stream"),
    ("GET", "/api/v1/executions/{}/events/stream"),
}


def _shape(path: str) -> str:
    return re.sub(r"/(t-1|s-1|e-1|c-1|sf-1|d-1|h-1|fs|lodash@4\.17\.21)(?=/|$)", "/{}", path)


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "method", "path", "query", "body"),
    ROUTES,
    ids=[f"{r[0]}-{i}" for i, r in enumerate(ROUTES)],
)
def test_route_request(
    make: Any,
    name: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    method: str,
    path: str,
    query: dict[str, str],
    body: Any,
) -> None:
    answer: Any = "text" if name == "metrics" else {"ok": True}
    texts = {"metrics": "vm_up 1\n", "export_session": "# Session s-1\n"}

    def handler(request: httpx.Request) -> httpx.Response:
        if name in texts:
            return httpx.Response(200, text=texts[name])
        return httpx.Response(201 if method == "POST" else 200, json=answer)

    api: Facade = make(handler)
    result = api.call(name, *args, **kwargs)
    (request,) = api.requests
    assert request.method == method
    assert request.url.path == path
    assert dict(request.url.params) == query
    if body is None:
        assert request.content == b""
    else:
        assert json.loads(request.content) == body
    assert result == texts.get(name, answer)


def test_every_documented_route_is_covered() -> None:
    documented = set()
    for line in DOCS.read_text().splitlines():
        m = re.match(r"\|\s*(GET|POST|PATCH|DELETE|PUT)\s*\|\s*`([^`?]+)", line)
        if m:
            documented.add((m.group(1), re.sub(r"\{[^}]+\}", "{}", m.group(2))))
    assert len(documented) >= 35
    covered = {(r[3], _shape(r[4])) for r in ROUTES} | STREAM_ROUTES | FILE_ROUTES
    # /mcp is the MCP protocol endpoint: MCP clients speak it (docs/mcp.md), not this SDK.
    mcp = {("GET", "/mcp"), ("POST", "/mcp"), ("DELETE", "/mcp")}
    assert documented - covered - mcp == set()


def test_waiting_calls_have_no_read_timeout(make: Any) -> None:
    api: Facade = make(lambda r: httpx.Response(201, json={}), timeout=7.0)
    api.call("run_repl", S, "1")
    api.call("health")
    waiting, plain = api.requests
    assert waiting.extensions["timeout"]["read"] is None
    assert waiting.extensions["timeout"]["connect"] == 7.0
    assert plain.extensions["timeout"]["read"] == 7.0


def test_path_segments_are_quoted(make: Any) -> None:
    api: Facade = make(lambda r: httpx.Response(200, json={}))
    api.call("get_template", "a/b c")
    assert api.requests[0].url.raw_path == b"/api/v1/templates/a%2Fb%20c"


def test_iter_events_pages_until_short_page(make: Any) -> None:
    from vmsystem.client import _base

    def handler(request: httpx.Request) -> httpx.Response:
        after = int(request.url.params["after_seq"])
        limit = int(request.url.params["limit"])
        last = min(after + limit, 2500)
        return httpx.Response(200, json=[{"seq": s} for s in range(after + 1, last + 1)])

    api: Facade = make(handler)
    if api.kind == "sync":
        events = list(api.client.iter_events(E))
    else:

        async def collect() -> list[Any]:
            return [e async for e in api.client.iter_events(E)]

        events = api._runner.run(collect())
    assert [e["seq"] for e in events] == list(range(1, 2501))
    assert [r.url.params["after_seq"] for r in api.requests] == ["0", "1000", "2000"]
    assert _base.EVENTS_PAGE_SIZE == 1000


def test_sync_and_async_clients_have_the_same_api() -> None:
    import inspect

    from vmsystem.client import AsyncClient, Client

    def api(cls: type) -> dict[str, list[str]]:
        return {
            name: list(inspect.signature(fn).parameters)
            for name, fn in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_") and name not in {"close", "aclose"}
        }

    assert api(Client) == api(AsyncClient)
    assert "close" in dir(Client) and "aclose" in dir(AsyncClient)
    for name in api(Client):
        assert getattr(Client, name).__doc__, name
        assert getattr(AsyncClient, name).__doc__, name
