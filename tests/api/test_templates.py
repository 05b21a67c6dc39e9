"""Templates and their nested resources: capabilities, modules, libraries, startup files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from vmsystem.libraries.cache import LibraryCache

from .conftest import API, TestClient, create_session, create_template, repl
from .helpers import UNKNOWN_ID, UUID, after_millisecond

DEFAULT_SETTINGS = {
    "limits": {
        "wall_ms": 5000,
        "cpu_ms": 2000,
        "mem_mb": 128,
        "max_events": 50000,
        "max_output_kb": 256,
    },
    "runtime": {
        "strict": False,
        "console": True,
        "language": "javascript",
        "unhandled_rejections": "throw",
    },
    "resolver": {"roots": ["."], "extensions": [".js", ".mjs"]},
    "deterministic": {"seed": None},
    "worktree": {"seed": None},
    "recovery": {"policy": "replay"},
    "session": {"idle_timeout_s": None},
}
TEMPLATE_KEYS = {
    "id",
    "name",
    "engine",
    "is_active",
    "settings",
    "exposed_modules",
    "libraries",
    "created_at",
    "updated_at",
    "revision",
}


def test_create_template_answers_201_with_defaults(client: TestClient) -> None:
    r = client.post(f"{API}/templates", json={"name": "  fresh  "})
    assert r.status_code == 201
    t = r.json()
    assert set(t) == TEMPLATE_KEYS
    assert UUID.match(t["id"])
    assert t["name"] == "fresh"
    assert t["engine"] == "v8"
    assert t["is_active"] is True
    assert t["settings"] == DEFAULT_SETTINGS
    assert t["exposed_modules"] == [] and t["libraries"] == []
    assert t["created_at"] == t["updated_at"]


@pytest.mark.parametrize("engine", ["v8", "goja", "GOJA", None])
def test_engine_v8_and_legacy_goja_are_stored_as_v8(client: TestClient, engine: str | None) -> None:
    body: dict[str, Any] = {"name": "e"}
    if engine is not None:
        body["engine"] = engine
    t = client.post(f"{API}/templates", json=body).json()
    assert t["engine"] == "v8"
    assert client.get(f"{API}/templates/{t['id']}").json()["template"]["engine"] == "v8"


def test_template_list_is_empty_list_then_newest_first(client: TestClient) -> None:
    assert client.get(f"{API}/templates").json() == []
    a = create_template(client, "a")
    after_millisecond(a["created_at"])
    b = create_template(client, "b")
    after_millisecond(b["created_at"])
    c = create_template(client, "c")
    listed = client.get(f"{API}/templates").json()
    assert [t["id"] for t in listed] == [c["id"], b["id"], a["id"]]
    assert all(set(t) == TEMPLATE_KEYS for t in listed)


def test_template_detail_has_the_originals_shape_with_empty_lists(
    client: TestClient, template: dict[str, Any]
) -> None:
    r = client.get(f"{API}/templates/{template['id']}")
    assert r.status_code == 200
    detail = r.json()
    assert set(detail) == {"template", "settings", "capabilities", "startup_files"}
    assert detail["template"] == template
    assert detail["settings"] == {"template_id": template["id"], **DEFAULT_SETTINGS}
    assert detail["capabilities"] == [] and detail["startup_files"] == []


def test_patch_merges_settings_key_by_key(client: TestClient, template: dict[str, Any]) -> None:
    url = f"{API}/templates/{template['id']}"
    r = client.patch(url, json={"settings": {"limits": {"wall_ms": 200}}})
    assert r.status_code == 200
    patched = r.json()
    expected = {**DEFAULT_SETTINGS, "limits": {**DEFAULT_SETTINGS["limits"], "wall_ms": 200}}
    assert patched["settings"] == expected
    r = client.patch(
        url, json={"settings": {"runtime": {"strict": True}, "limits": {"mem_mb": 64}}}
    )
    settings = r.json()["settings"]
    assert settings["limits"]["wall_ms"] == 200, "an earlier change survives a later merge"
    assert settings["limits"]["mem_mb"] == 64
    assert settings["runtime"] == {**DEFAULT_SETTINGS["runtime"], "strict": True}
    assert settings["resolver"] == DEFAULT_SETTINGS["resolver"]
    assert r.json()["updated_at"] >= template["updated_at"]
    assert client.get(url).json()["settings"]["limits"]["wall_ms"] == 200


def test_patch_renames_and_keeps_everything_else(
    client: TestClient, template: dict[str, Any]
) -> None:
    url = f"{API}/templates/{template['id']}"
    client.post(f"{url}/modules", json={"name": "fs"})
    r = client.patch(url, json={"name": "renamed", "engine": "goja"})
    assert r.status_code == 200
    t = r.json()
    assert (t["name"], t["engine"], t["exposed_modules"]) == ("renamed", "v8", ["fs"])
    assert t["settings"] == template["settings"]
    assert t["created_at"] == template["created_at"]


def test_empty_patch_changes_nothing(client: TestClient, template: dict[str, Any]) -> None:
    r = client.patch(f"{API}/templates/{template['id']}", json={})
    assert r.status_code == 200
    assert r.json() == template


def test_patch_with_an_empty_name_is_refused(client: TestClient, template: dict[str, Any]) -> None:
    r = client.patch(f"{API}/templates/{template['id']}", json={"name": " "})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"


def test_sessions_keep_the_settings_snapshot_they_were_created_with(
    client: TestClient, template: dict[str, Any], worktree: Path
) -> None:
    s = create_session(client, template["id"], worktree)
    client.patch(
        f"{API}/templates/{template['id']}", json={"settings": {"limits": {"wall_ms": 77}}}
    )
    again = client.get(f"{API}/sessions/{s['id']}").json()
    assert again["template_snapshot"]["settings"]["limits"]["wall_ms"] == 5000
    newer = create_session(client, template["id"], worktree)
    assert newer["template_snapshot"]["settings"]["limits"]["wall_ms"] == 77


def test_delete_template_answers_ok_then_404(client: TestClient, template: dict[str, Any]) -> None:
    r = client.delete(f"{API}/templates/{template['id']}")
    assert (r.status_code, r.json()) == (200, {"status": "ok", "template_id": template["id"]})
    assert client.get(f"{API}/templates/{template['id']}").status_code == 404
    assert client.delete(f"{API}/templates/{template['id']}").status_code == 404


def test_delete_template_with_only_closed_sessions_keeps_no_live_reference(
    client: TestClient, template: dict[str, Any], worktree: Path
) -> None:
    s = create_session(client, template["id"], worktree)
    client.post(f"{API}/sessions/{s['id']}/close")
    assert client.delete(f"{API}/templates/{template['id']}").status_code == 200
    assert client.get(f"{API}/sessions/{s['id']}").json()["status"] == "closed"


# ---------------------------------------------------------------------------- capabilities


def test_capability_kinds_from_metadata_can_be_granted_listed_and_revoked(
    client: TestClient, template: dict[str, Any]
) -> None:
    catalog = client.get(f"{API}/metadata/capabilities").json()
    fs_write = next(c for c in catalog if (c["kind"], c["name"]) == ("fs", "write"))
    url = f"{API}/templates/{template['id']}/capabilities"
    r = client.post(url, json={"kind": fs_write["kind"], "name": fs_write["name"]})
    assert r.status_code == 201
    cap = r.json()
    assert set(cap) == {"id", "template_id", "kind", "name", "enabled", "config"}
    assert (cap["template_id"], cap["kind"], cap["name"]) == (template["id"], "fs", "write")
    assert cap["enabled"] is True and cap["config"] == {}
    assert client.get(url).json() == [cap]
    assert client.get(f"{API}/templates/{template['id']}").json()["capabilities"] == [cap]

    r = client.delete(f"{url}/{cap['id']}")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "template_id": template["id"], "capability_id": cap["id"]}
    assert client.get(url).json() == []


def test_exec_capability_keeps_its_config(client: TestClient, template: dict[str, Any]) -> None:
    url = f"{API}/templates/{template['id']}/capabilities"
    r = client.post(url, json={"kind": "exec", "name": "run", "config": {"allow": ["/bin/echo"]}})
    assert r.status_code == 201, r.text
    assert client.get(url).json()[0]["config"] == {"allow": ["/bin/echo"]}


def test_disabled_capability_is_stored_disabled(
    client: TestClient, template: dict[str, Any]
) -> None:
    url = f"{API}/templates/{template['id']}/capabilities"
    r = client.post(url, json={"kind": "fs", "name": "write", "enabled": False})
    assert r.status_code == 201
    assert r.json()["enabled"] is False


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "network", "name": "any"},
        {"kind": "fs", "name": "read"},
        {"kind": "exec", "name": "run"},
        {"kind": "env", "name": "VMSYSTEM_AUTH_TOKEN"},
    ],
)
def test_capabilities_outside_the_catalog_are_validation_error(
    client: TestClient, template: dict[str, Any], body: dict[str, Any]
) -> None:
    r = client.post(f"{API}/templates/{template['id']}/capabilities", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert client.get(f"{API}/templates/{template['id']}/capabilities").json() == []


def test_capability_ids_in_any_uuid_spelling_are_revoked(
    client: TestClient, template: dict[str, Any]
) -> None:
    url = f"{API}/templates/{template['id']}/capabilities"
    cap = client.post(url, json={"kind": "fs", "name": "write"}).json()
    r = client.delete(f"{url}/{{{cap['id'].upper()}}}")
    assert r.status_code == 200
    assert r.json()["capability_id"] == cap["id"]
    assert client.get(url).json() == []


# ---------------------------------------------------------------------------- modules


def test_modules_add_is_idempotent_list_and_remove(
    client: TestClient, template: dict[str, Any]
) -> None:
    url = f"{API}/templates/{template['id']}/modules"
    assert client.get(url).json() == []
    for _ in range(2):
        r = client.post(url, json={"name": "fs"})
        assert (r.status_code, r.json()) == (201, {"template_id": template["id"], "name": "fs"})
    client.post(url, json={"name": "database"})
    assert client.get(url).json() == ["fs", "database"]
    detail = client.get(f"{API}/templates/{template['id']}").json()["template"]
    assert detail["exposed_modules"] == ["fs", "database"]
    r = client.delete(f"{url}/fs")
    assert (r.status_code, r.json()) == (
        200,
        {"status": "ok", "template_id": template["id"], "name": "fs"},
    )
    assert client.get(url).json() == ["database"]
    assert client.delete(f"{url}/not-configured").status_code == 200, (
        "removing an absent name is a no-op"
    )


def test_metadata_modules_lists_exactly_the_native_modules(client: TestClient) -> None:
    modules = client.get(f"{API}/metadata/modules").json()
    assert sorted(m["name"] for m in modules) == ["database", "exec", "fs"]
    for m in modules:
        assert set(m) >= {"name", "description", "functions", "capabilities"}
        assert m["functions"] and isinstance(m["capabilities"], list)


# ---------------------------------------------------------------------------- libraries


@pytest.mark.parametrize("spelling", ["lodash", "lodash@4.17.21", "lodash-4.17.21"])
def test_catalog_library_in_any_spelling_is_accepted(
    client: TestClient, template: dict[str, Any], spelling: str
) -> None:
    url = f"{API}/templates/{template['id']}/libraries"
    r = client.post(url, json={"name": spelling})
    answer = r.json()
    assert r.status_code == 201
    assert (answer["template_id"], answer["name"], answer["cached"]) == (
        template["id"],
        spelling,
        False,
    )
    assert "vm-system libs download lodash" in answer["warning"], "the test cache is empty"
    assert "LIBRARY_NOT_CACHED" in answer["warning"]
    assert client.get(url).json() == [spelling]
    r = client.delete(f"{url}/{spelling}")
    assert (r.status_code, r.json()) == (
        200,
        {"status": "ok", "template_id": template["id"], "name": spelling},
    )
    assert client.get(url).json() == []


def test_adding_a_cached_library_has_no_warning(
    client: TestClient, template: dict[str, Any], cache_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "tiny.js"
    source.write_text("globalThis.tiny = 1;")
    LibraryCache(cache_dir).add_local(source, "tiny", "1.0.0", "tiny")
    r = client.post(f"{API}/templates/{template['id']}/libraries", json={"name": "tiny"})
    assert (r.status_code, r.json()) == (
        201,
        {"template_id": template["id"], "name": "tiny", "cached": True},
    )


def test_metadata_libraries_shows_the_catalog_with_cached_status(client: TestClient) -> None:
    libs = client.get(f"{API}/metadata/libraries").json()
    names = {lib["name"] for lib in libs}
    assert {"lodash", "dayjs", "ramda", "moment"} <= names
    for lib in libs:
        assert set(lib) >= {"name", "version", "file", "global", "description", "cached"}
        assert lib["cached"] is False, "the test cache is empty"


# ---------------------------------------------------------------------------- startup files


def test_startup_files_are_cleaned_listed_in_order_and_removed(
    client: TestClient, template: dict[str, Any]
) -> None:
    url = f"{API}/templates/{template['id']}/startup-files"
    r = client.post(url, json={"path": "runtime/../runtime/startup.js", "order_index": 10})
    assert r.status_code == 201
    late = r.json()
    assert set(late) == {"id", "template_id", "path", "order_index", "mode"}
    assert (late["path"], late["order_index"], late["mode"]) == ("runtime/startup.js", 10, "eval")
    early = client.post(url, json={"path": "first.js", "order_index": 1, "mode": " EVAL "}).json()
    assert early["mode"] == "eval"
    assert [s["id"] for s in client.get(url).json()] == [early["id"], late["id"]]
    r = client.delete(f"{url}/{late['id']}")
    assert r.json() == {
        "status": "ok",
        "template_id": template["id"],
        "startup_file_id": late["id"],
    }
    assert client.get(url).json() == [early]


def test_startup_files_run_in_order_and_share_the_global_scope(
    client: TestClient, template: dict[str, Any], worktree: Path
) -> None:
    (worktree / "b.js").write_text("var order = (typeof order === 'undefined' ? '' : order) + 'b';")
    (worktree / "a.js").write_text("var order = (typeof order === 'undefined' ? '' : order) + 'a';")
    url = f"{API}/templates/{template['id']}/startup-files"
    client.post(url, json={"path": "b.js", "order_index": 2})
    client.post(url, json={"path": "a.js", "order_index": 1})
    s = create_session(client, template["id"], worktree)
    assert repl(client, s["id"], "order")["result"]["preview"] == "ab"
    executions = client.get(f"{API}/executions?session_id={s['id']}").json()
    startups = [x for x in executions if x["kind"] == "startup"]
    assert sorted(x["path"] for x in startups) == ["a.js", "b.js"]
    assert all(x["status"] == "ok" for x in startups)


def test_nested_deletes_on_unknown_children_answer_ok(
    client: TestClient, template: dict[str, Any]
) -> None:
    base = f"{API}/templates/{template['id']}"
    assert client.delete(f"{base}/capabilities/{UNKNOWN_ID}").status_code == 200
    assert client.delete(f"{base}/startup-files/{UNKNOWN_ID}").status_code == 200
