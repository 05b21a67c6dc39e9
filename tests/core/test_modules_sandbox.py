"""The sandbox suite: every attempt to leave the session's confinement fails with a clear JS
(or API) error, and the session stays usable afterwards."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from vmsystem.core.capabilities import validate_capability
from vmsystem.core.errors import ModuleNotAllowed, ValidationError
from vmsystem.core.modules import normalize_module_name

from .modules_harness import Session, cap, js, open_session

pytestmark = pytest.mark.timeout(60)

ESCAPE = "EACCES: path escapes the session worktree"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the worktree, with a secret file."""
    root = tmp_path / "outside"
    root.mkdir()
    (root / "secret.txt").write_text("outside-secret")
    return Path(os.path.realpath(root))


@pytest.fixture
def worktree(tmp_path: Path, outside: Path) -> Path:
    root = tmp_path / "worktree"
    root.mkdir()
    (root / "inside.txt").write_text("inside")
    os.symlink("/etc/passwd", root / "passwd-link")
    os.symlink("/etc", root / "etc-link")
    os.symlink(outside, root / "outside-link")
    os.symlink(outside / "secret.txt", root / "secret-link")
    os.symlink(outside / "new.txt", root / "dangling-link")
    return Path(os.path.realpath(root))


@pytest.fixture
def full(worktree: Path) -> Iterator[Session]:
    """A session with every module and fs:write and exec:run (echo only) granted."""
    grants = [cap("fs", "write"), cap("exec", "run", config={"allow": ["/bin/echo", "ls"]})]
    with open_session(worktree, ["fs", "exec", "database"], grants) as s:
        yield s


def assert_refused(s: Session, code: str, message: str) -> None:
    error = s.caught(code)
    assert message in error["message"], error
    s.assert_usable()


# ------------------------------------------------------------------------------- fs reads
@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "../../../../../../etc/passwd",
        "passwd-link",
        "etc-link/passwd",
        "secret-link",
        "outside-link/secret.txt",
        "../outside/secret.txt",
        "inside.txt/../../outside/secret.txt",
        "no-such-dir/../../outside/secret.txt",
        "/proc/self/environ",
        "/",
    ],
)
def test_fs_read_outside_the_worktree_is_refused(full: Session, path: str) -> None:
    assert_refused(full, f"require('fs').readFileSync({js(path)})", ESCAPE)


@pytest.mark.parametrize(
    "call",
    [
        "readdirSync('/')",
        "readdirSync('..')",
        "readdirSync('etc-link')",
        "existsSync('/etc/passwd')",
        "existsSync('../outside')",
    ],
)
def test_fs_listing_and_probing_outside_the_worktree_is_refused(full: Session, call: str) -> None:
    assert_refused(full, f"require('fs').{call}", ESCAPE)


def test_fs_read_error_does_not_leak_the_outside_content(full: Session) -> None:
    error = full.caught("require('fs').readFileSync('secret-link')")
    assert "outside-secret" not in error["message"]
    assert error["message"] == f"{ESCAPE}: secret-link"


# ------------------------------------------------------------------------------ fs writes
def test_fs_write_without_fs_write_is_refused(worktree: Path) -> None:
    with open_session(worktree, ["fs"]) as s:
        assert_refused(
            s,
            "require('fs').writeFileSync('new.txt', 'x')",
            "fs.writeFileSync needs the fs:write capability",
        )
        assert_refused(
            s, "require('fs').mkdirSync('d')", "fs.mkdirSync needs the fs:write capability"
        )
        assert not (worktree / "new.txt").exists()
        assert not (worktree / "d").exists()


def test_fs_write_with_fs_write_disabled_is_refused(worktree: Path) -> None:
    with open_session(worktree, ["fs"], [cap("fs", "write", enabled=False)]) as s:
        assert_refused(
            s,
            "require('fs').writeFileSync('new.txt', 'x')",
            "fs.writeFileSync needs the fs:write capability",
        )
    assert not (worktree / "new.txt").exists()


@pytest.mark.parametrize(
    "path",
    [
        "../escape.txt",
        "/tmp/vm-system-escape.txt",
        "outside-link/new.txt",
        "dangling-link",
        "secret-link",
        "etc-link/vm-system-escape",
    ],
)
def test_fs_write_outside_the_worktree_is_refused(full: Session, outside: Path, path: str) -> None:
    assert_refused(full, f"require('fs').writeFileSync({js(path)}, 'pwned')", ESCAPE)
    assert (outside / "secret.txt").read_text() == "outside-secret"
    assert not (outside / "new.txt").exists()
    assert not Path("/tmp/vm-system-escape.txt").exists()
    assert not (outside.parent / "escape.txt").exists()


def test_fs_mkdir_outside_the_worktree_is_refused(full: Session, outside: Path) -> None:
    assert_refused(full, "require('fs').mkdirSync('../made', {recursive: true})", ESCAPE)
    assert_refused(full, "require('fs').mkdirSync('outside-link/made')", ESCAPE)
    assert not (outside.parent / "made").exists()
    assert not (outside / "made").exists()


# ------------------------------------------------------------------------------------ exec
def test_exec_without_the_exec_run_capability_is_refused(worktree: Path) -> None:
    with open_session(worktree, ["exec"]) as s:
        assert_refused(
            s, "require('exec').run('/bin/echo', ['x'])", "needs the exec:run capability"
        )


def test_exec_with_exec_run_disabled_is_refused(worktree: Path) -> None:
    grant = cap("exec", "run", enabled=False, config={"allow": ["/bin/echo"]})
    with open_session(worktree, ["exec"], [grant]) as s:
        assert_refused(
            s, "require('exec').run('/bin/echo', ['x'])", "needs the exec:run capability"
        )


@pytest.mark.parametrize(
    "cmd",
    [
        "id",
        "/usr/bin/id",
        "/bin/sh",
        "sh",
        "bash",
        "echo",
        "/usr/bin/echo",
        "/bin/./echo",
        "/bin//echo",
        "./ls",
        "/bin/ls",
        "ls ",
        "echo hi; id",
        "/bin/echo; id",
        "$(id)",
        "`id`",
    ],
)
def test_exec_of_an_unlisted_command_is_refused(full: Session, cmd: str) -> None:
    assert_refused(full, f"require('exec').run({js(cmd)}, [])", "exec: command not allowed")


@pytest.mark.parametrize(
    "entry", ["echo hi; id", "ls && id", "$(id)", "./run.sh", "bin/ls", "", "a|b"]
)
def test_exec_allow_entries_with_shell_syntax_or_relative_paths_are_rejected(entry: str) -> None:
    with pytest.raises(ValidationError):
        validate_capability("exec", "run", True, {"allow": [entry]})


def test_exec_shell_metacharacters_in_arguments_are_passed_literally(full: Session) -> None:
    args = ["$(id)", "; id", "`id`", "| cat /etc/passwd", "&& touch pwned", "*", "$HOME", "> x"]
    out = full.value(f"require('exec').run('/bin/echo', {json.dumps(args)})")
    assert out == " ".join(args) + "\n"
    assert "uid=" not in out


def test_exec_arguments_are_not_glob_expanded_or_redirected(full: Session, worktree: Path) -> None:
    assert full.value("require('exec').run('/bin/echo', ['*', '>', 'x'])") == "* > x\n"
    assert not (worktree / "x").exists()
    assert not (worktree / "pwned").exists()


def test_exec_bare_names_never_resolve_to_worktree_files(full: Session, worktree: Path) -> None:
    fake = worktree / "ls"
    fake.write_text("#!/bin/sh\necho fake-ls\n")
    fake.chmod(0o755)
    out = full.value("require('exec').run('ls', [])")
    assert "fake-ls" not in out
    assert "inside.txt" in out


# --------------------------------------------------------------------------------- require
@pytest.mark.parametrize(
    "name",
    [
        "child_process",
        "node:child_process",
        "os",
        "path",
        "http",
        "net",
        "vm",
        "worker_threads",
        "module",
        "process",
        "../x.js",
        "x.js",
        "FS",
        " fs",
        "fs/promises",
        "__proto__",
        "constructor",
        "hasOwnProperty",
        "toString",
        "",
        "fs.readFileSync",
    ],
)
def test_require_of_anything_unconfigured_throws_invalid_module(
    full: Session, worktree: Path, name: str
) -> None:
    (worktree / "x.js").write_text("module.exports = 'loaded';")
    assert_refused(full, f"require({js(name)})", "Invalid module")


def test_require_of_an_absolute_path_never_loads_the_file(full: Session, worktree: Path) -> None:
    target = worktree / "evil.js"
    target.write_text("globalThis.loaded = true; module.exports = 1;")
    assert_refused(full, f"require({js(str(target))})", "Invalid module")
    assert_refused(full, "require('/etc/passwd')", "Invalid module")
    assert full.value("typeof globalThis.loaded") == "undefined"


def test_require_with_non_string_names_throws_invalid_module(full: Session) -> None:
    for arg in ("undefined", "null", "{toString() { return 'fs' + 'x'; }}", "['child_process']"):
        assert_refused(full, f"require({arg})", "Invalid module")


@pytest.mark.parametrize(
    "name", ["child_process", "console", "json", "math", "../fs", "fs/../exec", "process"]
)
def test_configuring_builtins_or_unknown_modules_is_module_not_allowed(name: str) -> None:
    with pytest.raises(ModuleNotAllowed):
        normalize_module_name(name)
    with pytest.raises(ModuleNotAllowed):
        validate_capability("module", name, True, {})


# --------------------------------------------------------------------------------- globals
#: What V8 gives a fresh context, plus what the prelude installs (console, process, require,
#: and Node's `global` and `Buffer`, docs/runtime.md).
STANDARD_GLOBALS = {
    "global",
    "Buffer",
    "display",
    "_",
    "_error",
    "$vmT",
    "$vmR",
    "CryptoKey",
    "Object",
    "Function",
    "Array",
    "Number",
    "parseFloat",
    "parseInt",
    "Infinity",
    "NaN",
    "undefined",
    "Boolean",
    "String",
    "Symbol",
    "Date",
    "Promise",
    "RegExp",
    "Error",
    "AggregateError",
    "EvalError",
    "RangeError",
    "ReferenceError",
    "SyntaxError",
    "TypeError",
    "URIError",
    "globalThis",
    "JSON",
    "Math",
    "Intl",
    "ArrayBuffer",
    "Uint8Array",
    "Int8Array",
    "Uint16Array",
    "Int16Array",
    "Uint32Array",
    "Int32Array",
    "BigUint64Array",
    "BigInt64Array",
    "Uint8ClampedArray",
    "Float32Array",
    "Float64Array",
    "DataView",
    "Map",
    "BigInt",
    "Set",
    "Iterator",
    "WeakMap",
    "WeakSet",
    "Proxy",
    "Reflect",
    "FinalizationRegistry",
    "WeakRef",
    "decodeURI",
    "decodeURIComponent",
    "encodeURI",
    "encodeURIComponent",
    "escape",
    "unescape",
    "eval",
    "isFinite",
    "isNaN",
    "Temporal",
    "SuppressedError",
    "DisposableStack",
    "AsyncDisposableStack",
    "Float16Array",
    "console",
    "process",
    "require",
    # The event loop and the web-platform APIs (docs/runtime.md): prelude code, no host access.
    "setTimeout",
    "setInterval",
    "clearTimeout",
    "clearInterval",
    "queueMicrotask",
    "URL",
    "URLSearchParams",
    "TextEncoder",
    "TextDecoder",
    "EventTarget",
    "Event",
    "AbortController",
    "AbortSignal",
    "DOMException",
    "structuredClone",
    "atob",
    "btoa",
    "crypto",
    "performance",
}
#: The module loader's entry points (it reads only inside the worktree, as run-file does).
MODULES_SYMBOL = "Symbol(vm-system.modules)"


def test_the_global_object_holds_only_standard_globals(full: Session) -> None:
    names = set(full.value("Object.getOwnPropertyNames(globalThis)"))
    assert names - STANDARD_GLOBALS == set()
    symbols = set(full.value("Object.getOwnPropertySymbols(globalThis).map(String)"))
    # The REPL transform's helper has no global (it is reached as $vmR(token)).
    assert symbols - {"Symbol(Symbol.toStringTag)"} == {MODULES_SYMBOL}


@pytest.mark.parametrize(
    "expr",
    [
        "__vm_bell",
        "bell",
        "hostCall",
        "sab",
        "config",
        "configJson",
        "state",
        "moduleFactories",
        "Deno",
        "Bun",
        "python",
        "pyodide",
        "py",
        "__python__",
        "WebAssembly",
        "SharedArrayBuffer",
        "Atomics",
        "importScripts",
        "fetch",
        "XMLHttpRequest",
        "WebSocket",
        "module",
        "exports",
        "__dirname",
        "__filename",
        "gc",
        "d8",
        "print",
        "load",
        "read",
        "readline",
        "quit",
        "os",
        "process.binding",
        "process.dlopen",
        "process.mainModule",
        "process.versions",
        "process.exit",
        "process.kill",
        "process.cwd",
        "require.cache",
        "require.resolve",
        "require.main",
        "console._stdout",
    ],
)
def test_host_internals_are_not_reachable_through_globals(full: Session, expr: str) -> None:
    assert full.value(f"typeof {expr}") == "undefined"
    assert full.value(f"typeof Function('return typeof {expr}')()") == "string"
    assert full.value(f"Function('return typeof {expr}')()") == "undefined"


def test_the_function_constructor_reaches_only_the_same_global_object(full: Session) -> None:
    assert full.value("Function('return this')() === globalThis") is True
    assert full.value("(function(){}).constructor('return this')() === globalThis") is True
    names = set(full.value("(0, eval)('Object.getOwnPropertyNames(this)')"))
    assert names - STANDARD_GLOBALS == set()


def test_process_exposes_only_a_frozen_env(full: Session) -> None:
    assert full.value("Object.getOwnPropertyNames(process)") == ["env"]
    assert full.value("Object.isFrozen(process.env) && Object.isFrozen(process)") is True
    assert full.value("process.env.injected = 'x'; typeof process.env.injected") == "undefined"


def test_stack_frames_of_host_calls_expose_no_internal_function(full: Session) -> None:
    frames = full.value(
        "var seen = null;"
        "Error.prepareStackTrace = (e, frames) => frames.map(f => f.getFunction());"
        "var probe = { toJSON() { seen = new Error().stack; return 'inside.txt'; } };"
        "require('fs').existsSync(probe);"
        "Error.prepareStackTrace = undefined;"
        "seen.filter(f => typeof f === 'function' && f !== probe.toJSON).length"
    )
    assert frames == 0
    full.assert_usable()


def test_module_functions_cannot_be_repointed_at_other_host_operations(full: Session) -> None:
    # Module objects are frozen and their functions call fixed operation names.
    assert (
        full.value(
            "const fs = require('fs'); fs.readFileSync = () => 'patched';"
            "fs.readFileSync('inside.txt')"
        )
        == "inside"
    )
    assert full.value("Object.getOwnPropertyNames(require('fs').readFileSync)").count("caller") == 0
    full.assert_usable()


# ------------------------------------------------------------------------------------- env
def test_the_daemon_environment_does_not_leak_into_process_env(
    worktree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VMSYS_TEST_LEAK_CANARY", "leaked-value")
    with open_session(worktree, ["fs"]) as s:
        assert s.value("Object.keys(process.env)") == []
        assert s.value("typeof process.env.VMSYS_TEST_LEAK_CANARY") == "undefined"
        assert s.value("typeof process.env.PATH") == "undefined"
        assert s.value("typeof process.env.HOME") == "undefined"


def test_an_env_grant_shows_exactly_that_variable(
    worktree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VMSYS_TEST_LEAK_CANARY", "granted-value")
    monkeypatch.setenv("VMSYS_TEST_OTHER", "other-value")
    with open_session(worktree, [], [cap("env", "VMSYS_TEST_LEAK_CANARY")]) as s:
        assert (
            s.value("JSON.stringify(process.env)") == '{"VMSYS_TEST_LEAK_CANARY":"granted-value"}'
        )


def test_exec_children_do_not_inherit_the_daemon_environment(
    worktree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VMSYS_TEST_LEAK_CANARY", "leaked-value")
    monkeypatch.setenv("VMSYSTEM_AUTH_TOKEN", "daemon-token")
    grant = cap("exec", "run", config={"allow": ["/usr/bin/env"]})
    with open_session(worktree, ["exec"], [grant]) as s:
        out = s.value("require('exec').run('/usr/bin/env', [])")
    assert "leaked-value" not in out
    assert "daemon-token" not in out
    assert sorted(line.split("=", 1)[0] for line in out.splitlines()) == [
        "HOME",
        "LANG",
        "PATH",
        "PWD",
    ]
    assert "PATH=/usr/bin:/bin" in out.splitlines()


@pytest.mark.parametrize(
    "name", ["VMSYSTEM_AUTH_TOKEN", "vmsystem_db", "*", "A-B", "PATH=x", "", "1X"]
)
def test_env_grants_of_the_daemon_configuration_or_wildcards_are_rejected(name: str) -> None:
    with pytest.raises(ValidationError):
        validate_capability("env", name, True, {})


# -------------------------------------------------------------------------------- database
@pytest.mark.parametrize(
    "dsn",
    [
        "/tmp/vm-system-escape.db",
        "../escape.db",
        "outside-link/escape.db",
        "dangling-link",
        "secret-link",
        "/etc/passwd",
    ],
)
def test_database_dsn_outside_the_worktree_is_refused(
    full: Session, outside: Path, dsn: str
) -> None:
    assert_refused(full, f"require('database').configure('sqlite3', {js(dsn)})", ESCAPE)
    assert not Path("/tmp/vm-system-escape.db").exists()
    assert not (outside.parent / "escape.db").exists()
    assert not (outside / "escape.db").exists()
    assert not (outside / "new.txt").exists()


@pytest.mark.parametrize(
    "sql",
    [
        "ATTACH DATABASE '/tmp/vm-system-attach.db' AS x",
        "ATTACH DATABASE '../attach.db' AS x",
        "VACUUM INTO '/tmp/vm-system-vacuum.db'",
        "PRAGMA temp_store_directory = '/tmp'",
        "SELECT load_extension('/tmp/evil.so')",
    ],
)
def test_database_sql_cannot_reach_other_files(full: Session, outside: Path, sql: str) -> None:
    full.value("var db = require('database'); db.configure('sqlite3', ':memory:')")
    error = full.caught(f"db.exec({js(sql)})")
    assert "not authorized" in error["message"] or "denied" in error["message"], error
    assert not Path("/tmp/vm-system-attach.db").exists()
    assert not Path("/tmp/vm-system-vacuum.db").exists()
    assert not (outside.parent / "attach.db").exists()
    full.assert_usable()


# ------------------------------------------------------------------------------- libraries
@pytest.mark.parametrize("spec", ["../../etc/passwd", "../lodash", "lodash/../../x", "/abs/x"])
def test_library_names_with_path_syntax_are_rejected(spec: str) -> None:
    from vmsystem.libraries.errors import LibraryNameError
    from vmsystem.libraries.names import parse_spec

    with pytest.raises(LibraryNameError):
        parse_spec(spec)


# ------------------------------------------------------------------- after every attempt
def test_a_session_stays_usable_after_a_series_of_refused_attempts(full: Session) -> None:
    attempts = [
        "require('fs').readFileSync('/etc/passwd')",
        "require('fs').writeFileSync('../x', 'y')",
        "require('exec').run('id', [])",
        "require('child_process')",
        "require('database').configure('sqlite3', '/tmp/x.db')",
    ]
    full.value("var counter = 41")
    for attempt in attempts:
        full.caught(attempt)
    assert full.value("counter + 1") == 42
    assert full.value("require('fs').readFileSync('inside.txt')") == "inside"
