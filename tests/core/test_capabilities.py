"""The capability catalog: validation, the documented table, and enforcement in a real
context (env, global and module capabilities; fs and exec are covered by the module tests)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from vmsystem.core.capabilities import (
    DEFAULT_HIDDEN_GLOBALS,
    HIDEABLE_GLOBALS,
    KINDS,
    capability_catalog,
    exec_policy,
    hidden_globals,
    session_environment,
    session_modules,
    validate_capability,
)
from vmsystem.core.errors import ModuleNotAllowed, ValidationError

from .modules_harness import cap, open_session

pytestmark = pytest.mark.timeout(120)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "capabilities.md"


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    root = tmp_path / "worktree"
    root.mkdir()
    (root / "a.txt").write_text("a")
    return Path(os.path.realpath(root))


# ------------------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    ("kind", "name", "enabled", "config", "expected"),
    [
        ("fs", "write", True, {}, ("fs", "write", {})),
        (" FS ", "Write", True, None, ("fs", "write", {})),
        (
            "exec",
            "run",
            True,
            {"allow": ["/bin/echo", " ls", "/bin/echo"]},
            ("exec", "run", {"allow": ["/bin/echo", "ls"]}),
        ),
        (
            "exec",
            "RUN",
            True,
            {"allow": ["git"], "timeout_ms": 1500},
            ("exec", "run", {"allow": ["git"], "timeout_ms": 1500}),
        ),
        ("exec", "run", False, {}, ("exec", "run", {})),
        ("env", "TZ", True, {}, ("env", "TZ", {})),
        (
            "env",
            "api_url",
            True,
            {"value": "https://x"},
            ("env", "api_url", {"value": "https://x"}),
        ),
        ("global", "date", False, {}, ("global", "Date", {})),
        ("GLOBAL", "sharedarraybuffer", True, {}, ("global", "SharedArrayBuffer", {})),
        ("module", " FS ", True, {}, ("module", "fs", {})),
        ("module", "database", False, {}, ("module", "database", {})),
    ],
)
def test_validate_capability_normalises_known_capabilities(
    kind: str,
    name: str,
    enabled: bool,
    config: dict[str, Any] | None,
    expected: tuple[str, str, dict[str, Any]],
) -> None:
    assert validate_capability(kind, name, enabled, config) == expected


@pytest.mark.parametrize(
    ("kind", "name", "enabled", "config"),
    [
        ("", "write", True, {}),
        ("fs", "", True, {}),
        ("network", "http", True, {}),
        ("fs", "read", True, {}),
        ("fs", "write", True, {"paths": ["/"]}),
        ("fs", "write", True, ["not", "an", "object"]),
        ("exec", "shell", True, {"allow": ["ls"]}),
        ("exec", "run", True, {}),
        ("exec", "run", True, {"allow": []}),
        ("exec", "run", True, {"allow": "ls"}),
        ("exec", "run", True, {"allow": [1]}),
        ("exec", "run", True, {"allow": ["/bin/../bin/sh"]}),
        ("exec", "run", True, {"allow": ["ls"], "timeout_ms": 0}),
        ("exec", "run", True, {"allow": ["ls"], "timeout_ms": 10_001}),
        ("exec", "run", True, {"allow": ["ls"], "timeout_ms": "100"}),
        ("exec", "run", True, {"allow": ["ls"], "timeout_ms": True}),
        ("exec", "run", True, {"allow": ["ls"], "timeout_ms": 1.5}),
        ("exec", "run", True, {"allow": ["ls"], "shell": True}),
        ("env", "*", True, {}),
        ("env", "VMSYSTEM_AUTH_TOKEN", True, {}),
        ("env", "TZ", True, {"value": 3}),
        ("env", "TZ", True, {"default": "x"}),
        ("global", "Foo", False, {}),
        ("global", "undefined", False, {}),
        ("global", "globalThis", False, {}),
        ("global", "require", False, {}),
        ("global", "Date", False, {"x": 1}),
        ("module", "fs", True, {"root": "/"}),
    ],
)
def test_validate_capability_rejects_unknown_names_and_bad_config(
    kind: str, name: str, enabled: bool, config: Any
) -> None:
    with pytest.raises(ValidationError):
        validate_capability(kind, name, enabled, config)


@pytest.mark.parametrize("name", ["console", "json", "math", "date", "not-a-real-module"])
def test_module_capabilities_for_builtins_or_unknown_names_are_module_not_allowed(
    name: str,
) -> None:
    with pytest.raises(ModuleNotAllowed) as info:
        validate_capability("module", name, True, {})
    assert info.value.code == "MODULE_NOT_ALLOWED"


def test_validation_errors_name_the_capability_in_details() -> None:
    with pytest.raises(ValidationError) as info:
        validate_capability("fs", "read", True, {})
    assert info.value.details == {"kind": "fs", "name": "read"}
    assert "fs:read" in info.value.message


# ------------------------------------------------------------------------------- catalog
def test_the_catalog_covers_every_kind_and_is_json() -> None:
    catalog = capability_catalog()
    assert {entry["kind"] for entry in catalog} == set(KINDS)
    json.dumps(catalog)
    for entry in catalog:
        assert set(entry) >= {
            "kind",
            "name",
            "description",
            "default",
            "enabled_effect",
            "disabled_effect",
            "config_schema",
            "example",
        }
        assert entry["description"] and entry["enabled_effect"] and entry["disabled_effect"]


def test_every_catalog_example_validates() -> None:
    for entry in capability_catalog():
        example = entry["example"]
        kind, name, config = validate_capability(
            example["kind"], example["name"], example["enabled"], example["config"]
        )
        assert kind == entry["kind"]
        if not entry["name"].startswith("<"):
            assert name == entry["name"]
        assert config == example["config"]


def test_the_global_entry_lists_the_hideable_names() -> None:
    (entry,) = [e for e in capability_catalog() if (e["kind"], e["name"]) == ("global", "<Name>")]
    assert entry["names"] == list(HIDEABLE_GLOBALS)
    for name in DEFAULT_HIDDEN_GLOBALS:
        assert name in HIDEABLE_GLOBALS


def _doc_rows() -> set[tuple[str, str]]:
    rows: set[tuple[str, str]] = set()
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\|\s*`([^`]+)`\s*\|\s*`([^`]+)`\s*\|", line)
        if match:
            rows.add((match.group(1), match.group(2)))
    return rows


def test_the_docs_table_lists_every_catalog_entry() -> None:
    documented = _doc_rows()
    catalog = {(entry["kind"], entry["name"]) for entry in capability_catalog()}
    assert catalog - documented == set(), "capabilities missing from docs/capabilities.md"
    capability_rows = {row for row in documented if row[0] in KINDS}
    assert capability_rows - catalog == set(), "docs/capabilities.md documents unknown entries"


def test_the_docs_list_every_hideable_global() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for name in HIDEABLE_GLOBALS:
        assert f"`{name}`" in text, name


# ------------------------------------------------------------------------------- helpers
def test_session_environment_shows_only_enabled_grants() -> None:
    environ = {"TZ": "UTC", "HOME": "/root", "SECRET": "s", "VMSYSTEM_AUTH_TOKEN": "t"}
    caps = [
        cap("env", "TZ"),
        cap("env", "SECRET", enabled=False),
        cap("env", "MISSING"),
        cap("env", "FIXED", config={"value": "v"}),
    ]
    assert session_environment(caps, environ) == {"TZ": "UTC", "FIXED": "v"}
    assert session_environment([], environ) == {}


def test_hidden_globals_default_and_grants() -> None:
    assert hidden_globals([]) == ("SharedArrayBuffer", "Atomics")
    assert hidden_globals([cap("global", "SharedArrayBuffer")]) == ("Atomics",)
    assert hidden_globals([cap("global", "Date", enabled=False), cap("global", "Math")]) == (
        "SharedArrayBuffer",
        "Atomics",
        "Date",
    )


def test_session_modules_adds_granted_and_withdraws_denied_modules() -> None:
    assert session_modules(["fs"], []) == ["fs"]
    assert session_modules(["fs"], [cap("module", "exec")]) == ["fs", "exec"]
    assert session_modules(["fs", "exec"], [cap("module", "fs", enabled=False)]) == ["exec"]
    assert session_modules(["fs"], [cap("module", "fs")]) == ["fs"]


def test_exec_policy_reads_the_enabled_grant() -> None:
    assert exec_policy([]) is None
    assert exec_policy([cap("exec", "run", enabled=False, config={"allow": ["ls"]})]) is None
    policy = exec_policy([cap("exec", "run", config={"allow": ["ls"], "timeout_ms": 50})])
    assert policy is not None
    assert policy.allow == ("ls",)
    assert policy.timeout_ms == 50


# ---------------------------------------------------------------- enforcement in a context
def test_shared_memory_globals_are_hidden_by_default(worktree: Path) -> None:
    with open_session(worktree) as s:
        assert s.value("typeof SharedArrayBuffer + ' ' + typeof Atomics") == "undefined undefined"
        assert s.value("new Uint8Array([1, 2, 3]).length") == 3
        assert s.value("new Float64Array(new ArrayBuffer(16)).length") == 2


def test_global_grant_exposes_shared_memory(worktree: Path) -> None:
    grants = [cap("global", "SharedArrayBuffer"), cap("global", "Atomics")]
    with open_session(worktree, [], grants) as s:
        assert s.value("typeof SharedArrayBuffer + ' ' + typeof Atomics") == "function object"
        assert s.value("new Int32Array(new SharedArrayBuffer(8)).length") == 2


def test_disabled_global_is_removed_before_user_code(worktree: Path) -> None:
    grants = [cap("global", "Date", enabled=False), cap("global", "Math", enabled=False)]
    with open_session(worktree, [], grants) as s:
        assert s.value("typeof Date + ' ' + typeof Math") == "undefined undefined"
        assert s.error("Date.now()")["name"] == "ReferenceError"
        s.assert_usable()


@pytest.mark.parametrize("name", HIDEABLE_GLOBALS)
def test_hiding_any_hideable_global_keeps_the_session_working(worktree: Path, name: str) -> None:
    grants = [cap("global", name, enabled=False), cap("fs", "write")]
    with open_session(worktree, ["fs"], grants) as s:
        assert s.value(f"typeof globalThis[{json.dumps(name)}]") == "undefined"
        assert s.value("1+1") == 2
        assert s.value("'a' + 'b'") == "ab"
        assert s.value("[1, 2].length") == 2
        if name != "console":
            s.value("console.log('%d items of %s', 3, 'x'); console.log({a: [1]}, 2.5)")
            assert [line[1] for line in s.lines] == ["3 items of x", "{ a: [ 1 ] } 2.5"]
        if name not in ("Uint8Array", "Float64Array"):
            s.value("new Uint8Array([1, 2]); new Float64Array(4)")
        assert s.value("require('fs').readFileSync('a.txt')") == "a"
        assert "Invalid module" in s.caught("require('exec')")["message"]
        assert s.caught("require('fs').readFileSync('/etc/passwd')")["message"].startswith("EACCES")
        assert s.error("throw {name: 'Custom', message: 'boom'}")["message"]
        s.assert_usable()


def test_env_grant_reaches_process_env(worktree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VMSYS_TEST_TZ", "Europe/Paris")
    grants = [cap("env", "VMSYS_TEST_TZ"), cap("env", "MODE", config={"value": "test"})]
    with open_session(worktree, [], grants) as s:
        assert s.value("process.env.VMSYS_TEST_TZ") == "Europe/Paris"
        assert s.value("process.env.MODE") == "test"
        assert s.value("Object.keys(process.env).sort()") == ["MODE", "VMSYS_TEST_TZ"]


def test_env_grant_reaches_exec_children(worktree: Path) -> None:
    grants = [
        cap("env", "MODE", config={"value": "child-visible"}),
        cap("exec", "run", config={"allow": ["/usr/bin/env"]}),
    ]
    with open_session(worktree, ["exec"], grants) as s:
        assert "MODE=child-visible" in s.value("require('exec').run('/usr/bin/env')").splitlines()


def test_module_grant_is_the_same_as_configuring_the_module(worktree: Path) -> None:
    with open_session(worktree, [], [cap("module", "fs")]) as s:
        assert s.value("require('fs').readFileSync('a.txt')") == "a"
        assert "Invalid module" in s.caught("require('database')")["message"]


def test_module_denial_withdraws_a_configured_module(worktree: Path) -> None:
    with open_session(worktree, ["fs", "database"], [cap("module", "fs", enabled=False)]) as s:
        assert "Invalid module" in s.caught("require('fs')")["message"]
        assert s.value("typeof require('database').configure") == "function"
