"""The native modules fs, exec and database in a real V8 context (the original's tests and
the APIs of SPEC 4.6)."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest

from vmsystem.core.modules import ModuleScope, build_session_modules
from vmsystem.runtime import HostError, OutcomeKind, RunLimits

from .modules_harness import cap, js, open_session

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    root = tmp_path / "worktree"
    root.mkdir()
    return Path(os.path.realpath(root))


def script(worktree: Path, name: str, body: str) -> Path:
    path = worktree / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


# ---------------------------------------------------------------------------------- require
def test_unconfigured_require_of_database_and_exec_throws_invalid_module(worktree: Path) -> None:
    with open_session(worktree) as s:
        for name in ("database", "exec", "fs"):
            error = s.error(f"require({js(name)})")
            assert "Invalid module" in error["message"]
            s.assert_usable()


def test_json_builtin_works_without_any_module(worktree: Path) -> None:
    with open_session(worktree) as s:
        assert s.value("JSON.stringify({answer: 42})") == '{"answer":42}'


def test_required_module_objects_are_frozen_and_cached(worktree: Path) -> None:
    with open_session(worktree, ["fs"]) as s:
        assert s.value("Object.isFrozen(require('fs'))") is True
        assert s.value("require('fs') === require('fs')") is True
        assert (
            s.value("Object.keys(require('fs')).sort().join(',')")
            == "existsSync,mkdirSync,readFileSync,readdirSync,writeFileSync"
        )


# --------------------------------------------------------------------------------------- fs
def test_fs_read_file_sync_reads_a_worktree_file_by_absolute_path(worktree: Path) -> None:
    target = worktree / "native.txt"
    target.write_text("hello-native-module")
    with open_session(worktree, ["fs"]) as s:
        assert s.value(f"require('fs').readFileSync({js(str(target))})") == "hello-native-module"


def test_fs_read_file_sync_resolves_relative_paths_against_the_worktree(worktree: Path) -> None:
    (worktree / "sub").mkdir()
    (worktree / "sub" / "a.txt").write_text("héllo ✓")
    with open_session(worktree, ["fs"]) as s:
        assert s.value("require('fs').readFileSync('sub/a.txt', 'utf8')") == "héllo ✓"
        assert s.value("require('fs').readFileSync('./sub/../sub/a.txt')") == "héllo ✓"
        assert s.value("require('fs').readFileSync('sub/a.txt', {encoding: 'utf-8'})") == "héllo ✓"


def test_fs_read_file_sync_supports_base64_hex_and_latin1(worktree: Path) -> None:
    (worktree / "b.bin").write_bytes(b"\x00\xffab")
    with open_session(worktree, ["fs"]) as s:
        assert s.value("require('fs').readFileSync('b.bin', 'base64')") == "AP9hYg=="
        assert s.value("require('fs').readFileSync('b.bin', 'hex')") == "00ff6162"
        assert s.value("require('fs').readFileSync('b.bin', 'latin1').length") == 4
        error = s.caught("require('fs').readFileSync('b.bin', 'utf16le')")
        assert error["name"] == "TypeError"
        assert "unsupported encoding" in error["message"]


def test_fs_write_file_sync_with_fs_write_writes_inside_the_worktree(worktree: Path) -> None:
    with open_session(worktree, ["fs"], [cap("fs", "write")]) as s:
        s.value("require('fs').writeFileSync('out.txt', 'written ✓')")
        assert (worktree / "out.txt").read_text() == "written ✓"
        s.value(f"require('fs').writeFileSync({js(str(worktree / 'abs.txt'))}, 'abs')")
        assert (worktree / "abs.txt").read_text() == "abs"
        s.value("require('fs').writeFileSync('raw.bin', 'AP8=', 'base64')")
        assert (worktree / "raw.bin").read_bytes() == b"\x00\xff"
        assert s.value("require('fs').readFileSync('out.txt')") == "written ✓"


def test_fs_write_file_sync_refuses_non_string_data(worktree: Path) -> None:
    with open_session(worktree, ["fs"], [cap("fs", "write")]) as s:
        error = s.caught("require('fs').writeFileSync('x.txt', {a: 1})")
        assert error == {"name": "TypeError", "message": "fs.writeFileSync: data must be a string"}
        assert not (worktree / "x.txt").exists()


def test_fs_exists_sync_and_readdir_sync_list_sorted_names(worktree: Path) -> None:
    for name in ("b.txt", "a.txt", "C.txt"):
        (worktree / name).write_text(name)
    (worktree / "dir").mkdir()
    with open_session(worktree, ["fs"]) as s:
        assert s.value("require('fs').readdirSync('.')") == ["C.txt", "a.txt", "b.txt", "dir"]
        assert s.value("require('fs').readdirSync()") == ["C.txt", "a.txt", "b.txt", "dir"]
        assert s.value("require('fs').existsSync('a.txt')") is True
        assert s.value("require('fs').existsSync('missing.txt')") is False
        assert s.value("require('fs').existsSync('dir')") is True


def test_fs_mkdir_sync_creates_directories_recursively(worktree: Path) -> None:
    with open_session(worktree, ["fs"], [cap("fs", "write")]) as s:
        s.value("require('fs').mkdirSync('a/b/c', {recursive: true})")
        assert (worktree / "a" / "b" / "c").is_dir()
        s.value("require('fs').mkdirSync('a/b/c', {recursive: true})")  # idempotent
        s.value("require('fs').mkdirSync('single')")
        assert (worktree / "single").is_dir()
        assert s.caught("require('fs').mkdirSync('single')")["message"].startswith("EEXIST")
        assert s.caught("require('fs').mkdirSync('x/y')")["message"].startswith("ENOENT")


def test_fs_missing_file_and_directory_reads_throw_node_style_errors(worktree: Path) -> None:
    (worktree / "dir").mkdir()
    with open_session(worktree, ["fs"]) as s:
        missing = s.caught("require('fs').readFileSync('nope.txt')")
        assert missing["message"] == "ENOENT: no such file or directory, open 'nope.txt'"
        assert s.caught("require('fs').readFileSync('dir')")["message"].startswith("EISDIR")
        assert s.caught("require('fs').readdirSync('nope')")["message"].startswith("ENOENT")
        s.assert_usable()


def test_fs_reads_larger_than_16_mib_are_refused(worktree: Path) -> None:
    with open(worktree / "big.bin", "wb") as handle:
        handle.truncate(16 * 1024 * 1024 + 1)
    with open_session(worktree, ["fs"]) as s:
        assert s.caught("require('fs').readFileSync('big.bin')")["message"].startswith("EFBIG")
        s.assert_usable()


def test_fs_reading_a_fifo_is_refused_instead_of_blocking(worktree: Path) -> None:
    os.mkfifo(worktree / "pipe")
    with open_session(worktree, ["fs"]) as s:
        assert s.caught("require('fs').readFileSync('pipe')")["message"].startswith("EINVAL")
        s.assert_usable()


def test_fs_path_arguments_must_be_strings(worktree: Path) -> None:
    with open_session(worktree, ["fs"]) as s:
        for arg in ("undefined", "42", "{}", "''", "'a\\u0000b'"):
            assert s.caught(f"require('fs').readFileSync({arg})")["name"] == "TypeError"
        s.assert_usable()


# ------------------------------------------------------------------------------------- exec
def test_exec_run_returns_the_output_of_an_allowed_command(worktree: Path) -> None:
    grant = cap("exec", "run", config={"allow": ["/bin/echo"]})
    with open_session(worktree, ["exec"], [grant]) as s:
        assert s.value("require('exec').run('/bin/echo', ['exec-module-ok']).trim()") == (
            "exec-module-ok"
        )


def test_exec_run_combines_stdout_and_stderr(worktree: Path) -> None:
    tool = script(worktree, "both.sh", "echo out; echo err 1>&2; echo out2")
    grant = cap("exec", "run", config={"allow": [str(tool)]})
    with open_session(worktree, ["exec"], [grant]) as s:
        assert s.value(f"require('exec').run({js(str(tool))}, [])") == "out\nerr\nout2\n"


def test_exec_run_throws_on_a_non_zero_exit_with_status_and_output(worktree: Path) -> None:
    grant = cap("exec", "run", config={"allow": ["/bin/false", "ls"]})
    with open_session(worktree, ["exec"], [grant]) as s:
        error = s.caught("require('exec').run('/bin/false', [])")
        assert error["message"] == "exec: /bin/false exited with status 1: "
        error = s.caught("require('exec').run('ls', ['no-such-file'])")
        assert error["message"].startswith("exec: ls exited with status 2: ")
        assert "no-such-file" in error["message"]
        s.assert_usable()


def test_exec_run_bare_names_resolve_in_the_minimal_path_and_run_in_the_worktree(
    worktree: Path,
) -> None:
    (worktree / "marker.txt").write_text("x")
    grant = cap("exec", "run", config={"allow": ["ls", "pwd"]})
    with open_session(worktree, ["exec"], [grant]) as s:
        assert s.value("require('exec').run('ls')") == "marker.txt\n"
        assert s.value("require('exec').run('pwd', [])").strip() == str(worktree)


def test_exec_run_arguments_must_be_an_array_of_strings(worktree: Path) -> None:
    grant = cap("exec", "run", config={"allow": ["/bin/echo"]})
    with open_session(worktree, ["exec"], [grant]) as s:
        for args in ("[1]", "'hi'", "[{}]", "[null]"):
            assert s.caught(f"require('exec').run('/bin/echo', {args})")["name"] == "TypeError"
        assert s.caught("require('exec').run(42, [])")["name"] == "TypeError"
        s.assert_usable()


def test_exec_run_is_killed_at_the_capability_timeout(worktree: Path) -> None:
    grant = cap("exec", "run", config={"allow": ["/bin/sleep"], "timeout_ms": 300})
    with open_session(worktree, ["exec"], [grant]) as s:
        start = time.monotonic()
        error = s.caught("require('exec').run('/bin/sleep', ['5'])")
        assert time.monotonic() - start < 2
        assert "timed out after 300 ms" in error["message"]
        s.assert_usable()


def test_exec_run_stops_at_the_execution_deadline(worktree: Path) -> None:
    grant = cap("exec", "run", config={"allow": ["/bin/sleep"]})
    with open_session(worktree, ["exec"], [grant]) as s:
        s.scope.deadline = time.monotonic() + 0.3
        start = time.monotonic()
        error = s.caught("require('exec').run('/bin/sleep', ['5'])")
        assert time.monotonic() - start < 2
        assert "timed out" in error["message"]
        s.scope.deadline = None
        s.assert_usable()


def test_exec_run_ending_at_the_deadline_lets_the_wall_limit_stop_the_execution(
    worktree: Path,
) -> None:
    grant = cap("exec", "run", config={"allow": ["/bin/sleep"]})
    with open_session(worktree, ["exec"], [grant]) as s:
        start = time.monotonic()
        s.scope.deadline = start + 0.3
        outcome = s.run(
            "try { require('exec').run('/bin/sleep', ['5']); } catch (e) {} while (true) {}",
            RunLimits(wall_ms=300, cpu_ms=None),
        )
        assert outcome.kind is OutcomeKind.WALL_TIMEOUT
        assert time.monotonic() - start < 1.5
        s.scope.deadline = None
        s.assert_usable()


def test_exec_run_stops_when_the_scope_is_interrupted(worktree: Path) -> None:
    grant = cap("exec", "run", config={"allow": ["/bin/sleep"]})
    with open_session(worktree, ["exec"], [grant]) as s:
        timer = threading.Timer(0.2, s.scope.interrupt.set)
        timer.start()
        start = time.monotonic()
        error = s.caught("require('exec').run('/bin/sleep', ['5'])")
        timer.join()
        assert time.monotonic() - start < 2
        assert "was stopped" in error["message"]
        s.scope.interrupt.clear()
        s.assert_usable()


def test_exec_run_output_is_capped_at_1_mib(worktree: Path) -> None:
    grant = cap("exec", "run", config={"allow": ["yes"]})
    with open_session(worktree, ["exec"], [grant]) as s:
        error = s.caught("require('exec').run('yes', [])")
        assert "more than 1024 KiB of output" in error["message"]
        s.assert_usable()


def test_exec_run_kills_what_the_command_left_running(worktree: Path) -> None:
    marker = f"30.{os.getpid()}{int(time.monotonic() * 1000) % 100000}"
    tool = script(worktree, "bg.sh", f"sleep {marker} >/dev/null 2>&1 &\necho started")
    grant = cap("exec", "run", config={"allow": [str(tool)]})
    with open_session(worktree, ["exec"], [grant]) as s:
        assert s.value(f"require('exec').run({js(str(tool))})") == "started\n"
    deadline = time.monotonic() + 5
    while _processes_running(["sleep", marker]):
        if time.monotonic() > deadline:
            pytest.fail(f"background 'sleep {marker}' is still running")
        time.sleep(0.02)


def _processes_running(argv: list[str]) -> list[int]:
    """Live (not zombie) processes of the host whose command line is ``argv``."""
    wanted = "\0".join(argv).encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if cmdline.endswith(wanted) and state != "Z":
            found.append(int(entry.name))
    return found


# --------------------------------------------------------------------------------- database
def test_database_sqlite_memory_create_insert_query_returns_alice(worktree: Path) -> None:
    with open_session(worktree, ["database"]) as s:
        assert (
            s.value(
                "const db = require('database');"
                "db.configure('sqlite3', ':memory:');"
                "db.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)');"
                "db.exec('INSERT INTO users (name) VALUES (?)', 'alice');"
                "db.query('SELECT name FROM users')[0].name"
            )
            == "alice"
        )


def test_database_exec_reports_rows_affected_and_last_insert_id(worktree: Path) -> None:
    with open_session(worktree, ["database"]) as s:
        s.value("var db = require('database'); db.configure('sqlite3', ':memory:')")
        assert s.value("db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v)')") == {
            "success": True,
            "rowsAffected": 0,
            "lastInsertId": 0,
        }
        s.value("db.exec('INSERT INTO t (v) VALUES (?), (?)', 1, 2)")
        result = s.value("db.exec('INSERT INTO t (v) VALUES (?)', 3)")
        assert result == {"success": True, "rowsAffected": 1, "lastInsertId": 3}
        assert s.value("db.exec('UPDATE t SET v = v + 1')")["rowsAffected"] == 3


def test_database_query_returns_row_objects_of_every_sqlite_type(worktree: Path) -> None:
    with open_session(worktree, ["database"]) as s:
        s.value("var db = require('database'); db.configure('sqlite3', ':memory:')")
        rows = s.value(
            "db.query(\"SELECT 1 AS i, 1.5 AS f, 'x' AS s, NULL AS n, x'00ff' AS b, ? AS t\", true)"
        )
        assert rows == [{"i": 1, "f": 1.5, "s": "x", "n": None, "b": [0, 255], "t": 1}]
        assert s.value("db.query('SELECT 1 WHERE 0')") == []


def test_database_array_parameters_are_flattened(worktree: Path) -> None:
    with open_session(worktree, ["database"]) as s:
        s.value(
            "var db = require('database'); db.configure('sqlite3', ':memory:');"
            "db.exec('CREATE TABLE t (v)');"
            "db.exec('INSERT INTO t VALUES (?), (?), (?)', [1, 2], 3)"
        )
        assert s.value("db.query('SELECT v FROM t WHERE v IN (?, ?) ORDER BY v', [1, 3])") == [
            {"v": 1},
            {"v": 3},
        ]
        error = s.caught("db.query('SELECT ?', {a: 1})")
        assert error["name"] == "TypeError"
        assert s.caught("db.query('SELECT ?', [[1]])")["name"] == "TypeError"


def test_database_use_before_configure_throws(worktree: Path) -> None:
    with open_session(worktree, ["database"]) as s:
        for call in ("query('SELECT 1')", "exec('SELECT 1')"):
            error = s.caught(f"require('database').{call}")
            assert error["message"] == "database not configured: call configure(driver, dsn) first"
        s.assert_usable()


def test_database_close_then_use_throws_not_configured(worktree: Path) -> None:
    with open_session(worktree, ["database"]) as s:
        s.value("var db = require('database'); db.configure('sqlite3', ':memory:'); db.close()")
        assert "database not configured" in s.caught("db.query('SELECT 1')")["message"]
        s.value("db.close()")  # closing twice is harmless
        s.value("db.configure('sqlite3', ':memory:')")
        assert s.value("db.query('SELECT 2 AS v')") == [{"v": 2}]


def test_database_only_the_sqlite3_driver_is_supported(worktree: Path) -> None:
    with open_session(worktree, ["database"]) as s:
        error = s.caught("require('database').configure('postgres', 'host=x')")
        assert error["message"] == "database: unsupported driver 'postgres' (only 'sqlite3')"
        s.assert_usable()


def test_database_sql_errors_are_js_errors(worktree: Path) -> None:
    with open_session(worktree, ["database"]) as s:
        s.value("var db = require('database'); db.configure('sqlite3', ':memory:')")
        assert "no such table" in s.caught("db.query('SELECT * FROM nope')")["message"]
        assert "syntax error" in s.caught("db.exec('SELEC 1')")["message"]
        s.assert_usable()


def test_database_file_dsn_inside_the_worktree_persists(worktree: Path) -> None:
    (worktree / "data").mkdir()
    with open_session(worktree, ["database"], [cap("fs", "write")]) as s:
        s.value("var db = require('database'); db.configure('sqlite3', 'data/app.db')")
        s.value("db.exec('CREATE TABLE t (v)'); db.exec('INSERT INTO t VALUES (?)', 'kept')")
    assert (worktree / "data" / "app.db").is_file()
    with open_session(worktree, ["database"]) as s:  # without fs:write: read-only
        dsn = js(str(worktree / "data" / "app.db"))
        s.value(f"var db = require('database'); db.configure('sqlite3', {dsn})")
        assert s.value("db.query('SELECT v FROM t')") == [{"v": "kept"}]
        error = s.caught("db.exec('INSERT INTO t VALUES (?)', 'more')")
        assert "readonly database" in error["message"]


def test_database_connections_are_per_session(worktree: Path) -> None:
    with open_session(worktree, ["database"]) as one, open_session(worktree, ["database"]) as two:
        one.value("var db = require('database'); db.configure('sqlite3', ':memory:')")
        one.value("db.exec('CREATE TABLE only_here (v)')")
        assert "not configured" in two.caught("require('database').query('SELECT 1')")["message"]
        two.value("var db = require('database'); db.configure('sqlite3', ':memory:')")
        assert "no such table" in two.caught("db.query('SELECT * FROM only_here')")["message"]
        two.value("db.close()")
        assert one.value("db.query('SELECT count(*) AS n FROM only_here')") == [{"n": 0}]


def test_database_connection_is_closed_by_the_session_cleanup(worktree: Path) -> None:
    scope = ModuleScope("s", worktree, [])
    _, functions = build_session_modules(["database"], scope)
    functions["database.configure"](["sqlite3", ":memory:"])
    assert functions["database.query"](["SELECT 1 AS v", []]) == [{"v": 1}]
    assert len(scope.cleanups) == 1
    scope.cleanups[0]()
    with pytest.raises(HostError, match="database not configured"):
        functions["database.query"](["SELECT 1", []])


def test_database_long_statement_stops_at_the_execution_deadline(worktree: Path) -> None:
    with open_session(worktree, ["database"]) as s:
        s.value("var db = require('database'); db.configure('sqlite3', ':memory:')")
        s.scope.deadline = time.monotonic() + 0.3
        start = time.monotonic()
        error = s.caught(
            "db.query('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
            "SELECT count(*) FROM c')"
        )
        assert time.monotonic() - start < 2
        assert error["message"] == "database: statement stopped (time limit or cancel)"
        s.scope.deadline = None
        assert s.value("db.query('SELECT 3 AS v')") == [{"v": 3}]
