"""HTTP conventions: the documented route table, request ids, auth, CORS, health, metrics,
OpenAPI, the web UI fallback, and UUID spellings."""

from __future__ import annotations

import gc
import re
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Route

from .conftest import API, ClientFactory, TestClient, create_template, repl
from .helpers import UNKNOWN_ID, assert_envelope

DOCS = Path(__file__).resolve().parents[2] / "docs"
#: FastAPI's interactive docs, mentioned in the prose of docs/http-api.md, not in its table.
INTERACTIVE_DOCS = {"/docs", "/docs/oauth2-redirect", "/redoc"}


def _canonical(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path.split("?")[0])


def documented_routes() -> set[tuple[str, str]]:
    text = (DOCS / "http-api.md").read_text(encoding="utf-8")
    table = text.split("## Routes", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    rows = re.findall(r"^\| (GET|POST|PATCH|PUT|DELETE) \| `([^`]+)` \|", table, flags=re.M)
    assert len(rows) > 30, "the route table was not found"
    return {(method, _canonical(path)) for method, path in rows}


def app_routes(client: TestClient) -> set[tuple[str, str]]:
    found = set()
    for path, operations in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        for method in operations:
            found.add((method.upper(), _canonical(path)))
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Route) and route.path not in INTERACTIVE_DOCS:
            found.update((m, _canonical(route.path)) for m in route.methods or () if m != "HEAD")
    return found


def test_documented_route_table_matches_the_apps_routes_both_ways(client: TestClient) -> None:
    documented = documented_routes()
    served = app_routes(client)
    assert documented - served == set(), "documented but not served"
    assert served - documented == set(), "served but not documented"


def test_every_documented_route_is_routed(client: TestClient) -> None:
    """Each (method, path) of the table reaches a handler (no ROUTE_NOT_FOUND or 405)."""
    for method, path in sorted(documented_routes()):
        url = path.replace("{}", UNKNOWN_ID)
        r = client.request(method, url, json={} if method in {"POST", "PATCH"} else None)
        if r.status_code in (404, 405):
            assert r.json()["error"]["code"] not in {"ROUTE_NOT_FOUND", "METHOD_NOT_ALLOWED"}, (
                method,
                path,
            )


def test_health_is_exactly_status_ok(client: TestClient) -> None:
    r = client.get(f"{API}/health")
    assert r.status_code == 200
    assert r.content == b'{"status":"ok"}'
    assert r.headers["content-type"] == "application/json"


def test_json_responses_are_compact(client: TestClient, template: dict[str, Any]) -> None:
    body = client.get(f"{API}/templates/{template['id']}").content
    assert b'": ' not in body and b", " not in body[:50]


def test_request_id_is_generated_or_echoed(client: TestClient) -> None:
    generated = client.get(f"{API}/templates")
    assert re.fullmatch(r"[0-9a-f-]{36}", generated.headers["x-request-id"])
    other = client.get(f"{API}/templates")
    assert other.headers["x-request-id"] != generated.headers["x-request-id"]
    for path in (f"{API}/templates", f"{API}/templates/{UNKNOWN_ID}", "/api/v1/nope", "/metrics"):
        r = client.get(path, headers={"X-Request-Id": "trace-me-42"})
        assert r.headers["x-request-id"] == "trace-me-42", path
    r = client.put(f"{API}/templates", headers={"X-Request-Id": "on-405"})
    assert r.headers["x-request-id"] == "on-405"


def test_auth_token_protects_everything_but_health(make_client: ClientFactory) -> None:
    client = make_client(auth_token="s3cret")
    assert client.get(f"{API}/health").status_code == 200
    for path in (f"{API}/templates", f"{API}/runtime/summary", "/metrics", "/openapi.json"):
        assert_envelope(client.get(path), 401, "UNAUTHORIZED")
    ok = {"Authorization": "Bearer s3cret"}
    assert client.get(f"{API}/templates", headers=ok).json() == []
    r = client.post(f"{API}/templates", json={"name": "t"}, headers=ok)
    assert r.status_code == 201
    assert client.get("/metrics", headers=ok).status_code == 200


def test_unauthorized_requests_change_nothing(make_client: ClientFactory) -> None:
    client = make_client(auth_token="s3cret")
    assert_envelope(client.post(f"{API}/templates", json={"name": "t"}), 401, "UNAUTHORIZED")
    r = client.get(f"{API}/templates", headers={"Authorization": "Bearer s3cret"})
    assert r.json() == []


ORIGIN = "http://ui.example:5173"


def test_cors_allows_only_the_listed_origins(make_client: ClientFactory) -> None:
    client = make_client(cors_origins=(ORIGIN,))
    allowed = client.get(f"{API}/templates", headers={"Origin": ORIGIN})
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in allowed.headers.get("access-control-expose-headers", "").lower()
    other = client.get(f"{API}/templates", headers={"Origin": "http://evil.example"})
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers


def test_cors_lets_browser_mcp_clients_reach_mcp(make_client: ClientFactory) -> None:
    client = make_client(cors_origins=(ORIGIN,), auth_token="s3cret")
    r = client.options(
        "/mcp",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,mcp-protocol-version,"
            "mcp-session-id",
        },
    )
    assert r.status_code == 200
    assert "mcp-session-id" in r.headers["access-control-allow-headers"].lower()
    refused = client.post("/mcp", json={}, headers={"Origin": ORIGIN})
    assert_envelope(refused, 401, "UNAUTHORIZED")
    assert "mcp-session-id" in refused.headers["access-control-expose-headers"].lower()


def test_cors_preflight_answers_for_allowed_origin_even_with_auth(
    make_client: ClientFactory,
) -> None:
    client = make_client(cors_origins=(ORIGIN,), auth_token="s3cret")
    r = client.options(
        f"{API}/executions/repl",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in r.headers["access-control-allow-methods"]
    assert "authorization" in r.headers["access-control-allow-headers"].lower()
    denied = client.options(
        f"{API}/executions/repl",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in denied.headers


def test_cors_headers_reach_refusals_and_internal_errors(
    make_client: ClientFactory, vm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A browser UI on another origin must be able to read 401, 413 and 500 answers."""
    client = make_client(cors_origins=(ORIGIN,), auth_token="s3cret", max_request_bytes=64)
    origin = {"Origin": ORIGIN}
    unauthorized = client.get(f"{API}/templates", headers=origin)
    assert_envelope(unauthorized, 401, "UNAUTHORIZED")
    assert unauthorized.headers["access-control-allow-origin"] == ORIGIN
    authorized = {**origin, "Authorization": "Bearer s3cret"}
    too_large = client.post(f"{API}/templates", json={"name": "x" * 100}, headers=authorized)
    assert_envelope(too_large, 413, "PAYLOAD_TOO_LARGE")
    assert too_large.headers["access-control-allow-origin"] == ORIGIN

    def broken() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(vm, "summary", broken)
    internal = client.get(f"{API}/runtime/summary", headers=authorized)
    assert_envelope(internal, 500, "INTERNAL")
    assert internal.headers["access-control-allow-origin"] == ORIGIN


def test_head_is_answered_like_get_without_a_body(
    client: TestClient, session: dict[str, Any]
) -> None:
    for path in (
        f"{API}/health",
        f"{API}/templates",
        f"{API}/sessions/{session['id']}",
        "/metrics",
    ):
        get = client.get(path)
        head = client.head(path)
        assert head.status_code == 200, path
        assert head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]
        assert head.headers["x-request-id"]
    x = repl(client, session["id"], "1")
    stream = client.head(f"{API}/executions/{x['id']}/events/stream")
    assert stream.status_code == 200 and stream.content == b""
    refused = client.head(f"{API}/executions/repl")  # GET /executions/{id} with id "repl"
    assert (refused.status_code, refused.content) == (400, b"")


def test_without_cors_origins_no_cors_headers_are_sent(client: TestClient) -> None:
    r = client.get(f"{API}/templates", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in r.headers


def test_metrics_is_prometheus_text_counting_requests(client: TestClient) -> None:
    client.get(f"{API}/templates")
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert "# HELP" in r.text and "# TYPE" in r.text
    assert re.search(
        r'^vmsystem_http_requests_total\{.*route="/api/v1/templates".*\} \d', r.text, re.M
    )


def test_metrics_expose_sessions_and_restarts_per_host(client: TestClient) -> None:
    text = client.get("/metrics").text
    assert re.search(r'^vmsystem_host_sessions\{host="local",kind="inprocess"\} 0\.0$', text, re.M)
    assert re.search(r'^vmsystem_host_restarts\{host="local",kind="inprocess"\} 0\.0$', text, re.M)
    assert re.search(r'^vmsystem_host_alive\{host="local",kind="inprocess"\} 1\.0$', text, re.M)


def test_openapi_describes_every_api_route(client: TestClient) -> None:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    schema = r.json()
    assert schema["openapi"].startswith("3.")
    assert f"{API}/executions/repl" in schema["paths"]
    assert f"{API}/templates/{{template_id}}" in schema["paths"]


def test_web_ui_is_served_at_root_with_spa_fallback(client: TestClient) -> None:
    root = client.get("/")
    assert root.status_code == 200 and root.headers["content-type"].startswith("text/html")
    deep = client.get("/sessions/some/deep/link")
    assert deep.status_code == 200 and deep.headers["content-type"].startswith("text/html")
    assert_envelope(client.get("/api/v1/not-a-route"), 404, "ROUTE_NOT_FOUND")


def test_metadata_engines_names_v8_default_with_the_goja_alias(client: TestClient) -> None:
    engines = client.get(f"{API}/metadata/engines").json()
    assert len(engines) == 1
    assert engines[0]["name"] == "v8" and engines[0]["default"] is True
    assert engines[0]["aliases"] == ["goja"]
    assert engines[0]["version"]


def test_metadata_capabilities_documents_kinds_with_config_schema(client: TestClient) -> None:
    caps = client.get(f"{API}/metadata/capabilities").json()
    kinds = {c["kind"] for c in caps}
    assert {"fs", "exec", "env", "global", "module"} <= kinds
    assert all({"kind", "name", "description", "config_schema"} <= set(c) for c in caps)


@pytest.mark.parametrize(
    "spell",
    [str.upper, lambda i: "{" + i + "}", lambda i: "urn:uuid:" + i, lambda i: i.replace("-", "")],
)
def test_template_and_execution_ids_in_any_spelling_are_normalised(
    client: TestClient, session: dict[str, Any], spell: Any
) -> None:
    tid = session["template_id"]
    r = client.get(f"{API}/templates/{spell(tid)}")
    assert r.status_code == 200 and r.json()["template"]["id"] == tid
    x = repl(client, spell(session["id"]), "7")
    for path in ("", "/events"):
        r = client.get(f"{API}/executions/{spell(x['id'])}{path}")
        assert r.status_code == 200, path
    assert client.get(f"{API}/executions/{spell(x['id'])}").json()["id"] == x["id"]
    t = create_template(client, "spelled")
    r = client.post(f"{API}/templates/{spell(t['id'])}/modules", json={"name": "fs"})
    assert r.json()["template_id"] == t["id"]


# ------------------------------------------------------------ Host and Origin policy
@pytest.mark.parametrize(
    ("allowed", "host", "served"),
    [
        ((), "localhost:3210", True),
        ((), "LOCALHOST.", True),
        ((), "127.0.0.1", True),
        ((), "127.8.9.10:80", True),  # every loopback address
        ((), "[::1]:3210", True),
        ((), "", False),
        ((), "attacker.example:3210", False),
        ((), "localhost.attacker.example", False),
        ((), "127.0.0.1.nip.io", False),
        (("vm.example.com",), "vm.example.com:443", True),
        (("vm.example.com",), "evil-vm.example.com", False),
        (("*.example.com",), "a.b.example.com", True),
        (("*.example.com",), "example.com.evil", False),
        (("10.0.0.5",), "10.0.0.5:3210", True),
        (("*",), "anything.example", True),
    ],
)
def test_host_policy(allowed: tuple[str, ...], host: str, served: bool) -> None:
    from vmsystem.api.middleware import HostPolicy

    assert HostPolicy(allowed).host_allowed(host) is served


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        ("http://127.0.0.1:3210", "127.0.0.1:3210", True),  # the daemon's own page
        ("http://127.0.0.1:3211", "127.0.0.1:3210", False),
        ("http://localhost:3210", "127.0.0.1:3210", False),
        ("http://ui.example", "127.0.0.1:3210", True),  # a --cors-origin
        ("http://UI.example/", "127.0.0.1:3210", True),
        ("null", "127.0.0.1:3210", False),
        ("file://", "127.0.0.1:3210", False),
    ],
)
def test_origin_policy(origin: str, host: str, allowed: bool) -> None:
    from vmsystem.api.middleware import HostPolicy

    assert HostPolicy((), ("http://ui.example",)).origin_allowed(origin, host) is allowed


def test_a_cross_site_refusal_changes_nothing(client: TestClient) -> None:
    client.headers.pop("X-Requested-With")
    r = client.post(f"{API}/templates", content=b"name=x", headers={"Content-Type": "text/plain"})
    assert_envelope(r, 403, "CROSS_SITE_REQUEST")
    assert client.get(f"{API}/templates").json() == []
    allowed = client.post(f"{API}/templates", json={"name": "json-is-enough"})
    assert allowed.status_code == 201


@pytest.mark.parametrize(
    ("token", "headers"),
    [
        (None, {"X-Requested-With": "anything"}),
        (None, {"Mcp-Session-Id": "abc"}),
        ("s3cret", {"Authorization": "Bearer s3cret"}),
    ],
)
def test_headers_a_foreign_page_cannot_send_pass_the_cross_site_check(
    make_client: ClientFactory, token: str | None, headers: dict[str, str]
) -> None:
    client = make_client(auth_token=token)
    client.headers.pop("X-Requested-With")
    created = client.post(f"{API}/templates", json={"name": "bodyless-delete"}, headers=headers)
    assert created.status_code == 201, created.text
    template = created.json()
    assert client.delete(f"{API}/templates/{template['id']}").status_code == 403
    r = client.delete(f"{API}/templates/{template['id']}", headers=headers)
    assert r.status_code == 200, r.text


def test_basic_credentials_do_not_pass_the_cross_site_check(make_client: ClientFactory) -> None:
    client = make_client()
    client.headers.pop("X-Requested-With")
    r = client.post(f"{API}/sessions/{UNKNOWN_ID}/close", headers={"Authorization": "Basic eDp5"})
    assert_envelope(r, 403, "CROSS_SITE_REQUEST")


def test_objects_loaded_at_startup_are_frozen_out_of_the_cyclic_collector(
    make_client: ClientFactory,
) -> None:
    gc.unfreeze()
    try:
        assert gc.get_freeze_count() == 0
        client = make_client()
        assert client.get(f"{API}/health").status_code == 200
        # The app, its routes and schemas: never walked again by a full collection.
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
