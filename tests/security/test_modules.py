"""Attacks from JavaScript on the native modules and the session's globals: file-system
escapes, module tricks, environment leaks, the database module's SQL guards and memory."""

from __future__ import annotations

import os
import resource
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core.modules_harness import Session, cap, js, open_session


@pytest.fixture
def full(worktree: Path) -> Iterator[Session]:
    """Every module, with fs:write."""
    with open_session(worktree, ["fs", "exec", "database"], [cap("fs", "write")]) as s:
        yield s


# ---------------------------------------------------------------------------- fs escapes
@pytest.fixture
def escapes(worktree: Path, outside: Path) -> dict[str, str]:
    """Paths that lead out of the worktree: ``..``, absolute, a symlink to a file and one to
    a directory outside."""
    (worktree / "link-file").symlink_to(outside / "secret.txt")
    (worktree / "link-dir").symlink_to(outside)
    return {
        "dotdot": f"../{outside.name}/secret.txt",
        "absolute": str(outside / "secret.txt"),
        "etc": "/etc/passwd",
        "symlink": "link-file",
        "symlink-dir": "link-dir/secret.txt",
    }


@pytest.mark.parametrize("which", ["dotdot", "absolute", "etc", "symlink", "symlink-dir"])
def test_fs_reads_cannot_leave_the_worktree(
    full: Session, escapes: dict[str, str], which: str
) -> None:
    path = js(escapes[which])
    for call in (f"readFileSync({path})", f"existsSync({path})", f"readdirSync({path} + '/..')"):
        error = full.caught(f"require('fs').{call}")
        assert "EACCES" in error["message"] and "outside-secret" not in error["message"]


@pytest.mark.parametrize("which", ["dotdot", "absolute", "symlink", "symlink-dir"])
def test_fs_writes_cannot_leave_the_worktree(
    full: Session, escapes: dict[str, str], outside: Path, which: str
) -> None:
    error = full.caught(f"require('fs').writeFileSync({js(escapes[which])}, 'pwned')")
    assert "EACCES" in error["message"]
    assert (outside / "secret.txt").read_text() == "outside-secret"


def test_fs_writes_need_fs_write(worktree: Path) -> None:
    with open_session(worktree, ["fs"]) as s:
        error = s.caught("require('fs').writeFileSync('x.txt', 'data')")
    assert "fs:write" in error["message"]
    assert not (worktree / "x.txt").exists()


# ------------------------------------------------------------------------- module tricks
@pytest.mark.parametrize(
    "name",
    ["child_process", "fs/promises", "/etc/passwd", "../fs", "process", "module"],
)
def test_require_loads_only_configured_native_modules(full: Session, name: str) -> None:
    assert "Invalid module" in full.caught(f"require({js(name)})")["message"]


def test_require_of_worktree_files_stays_inside_the_worktree(
    full: Session, escapes: dict[str, str]
) -> None:
    # Worktree files are modules now (docs/runtime.md, Modules); nothing outside is.
    assert "Cannot find module './x.js'" in full.caught("require('./x.js')")["message"]
    for path in escapes.values():
        spec = path if path.startswith(("/", ".")) else "./" + path
        error = full.caught(f"require({js(spec)})")
        assert "Invalid module" in error["message"], (spec, error)
        assert "outside" in error["message"] and "outside-secret" not in str(error)


def test_unconfigured_modules_are_not_loadable(worktree: Path) -> None:
    with open_session(worktree, ["fs"]) as s:
        for name in ("exec", "database"):
            assert "Invalid module" in s.caught(f"require({js(name)})")["message"]


def test_exec_runs_only_allowlisted_commands(worktree: Path) -> None:
    with open_session(worktree, ["exec"], [cap("exec", "run", config={"allow": ["ls"]})]) as s:
        for cmd in ("sh", "/bin/sh", "ls ; id", "/usr/bin/ls"):
            error = s.caught(f"require('exec').run({js(cmd)}, [])")
            assert "not allowed" in error["message"], (cmd, error)


def test_host_call_plumbing_is_not_reachable(full: Session) -> None:
    probes = full.value(
        "[typeof __vmHostCall, typeof hostCall, typeof __host, typeof WebAssembly,"
        " typeof SharedArrayBuffer, typeof Atomics]"
    )
    assert probes == ["undefined"] * 6


# ------------------------------------------------------------------------------ env leaks
def test_process_env_shows_nothing_of_the_daemon(
    worktree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VMSYSTEM_AUTH_TOKEN", "daemon-token-canary")
    monkeypatch.setenv("SECRET_OF_THE_HOST", "host-canary")
    with open_session(worktree, ["fs"]) as s:
        assert s.value("JSON.stringify(process.env)") == "{}"
        assert s.value("Object.keys(process.env).length") == 0
        assert s.value("typeof process.env.VMSYSTEM_AUTH_TOKEN") == "undefined"


def test_an_env_grant_never_exposes_the_daemon_configuration() -> None:
    from vmsystem.core.errors import ValidationError

    with pytest.raises(ValidationError):
        cap("env", "VMSYSTEM_AUTH_TOKEN")


# ---------------------------------------------------------------------- SQL guards
@pytest.mark.parametrize(
    "sql",
    [
        "ATTACH DATABASE '{outside}/x.db' AS x",
        "VACUUM INTO '{outside}/copy.db'",
        "SELECT load_extension('/usr/lib/x86_64-linux-gnu/libm.so.6')",
        "PRAGMA temp_store_directory = '{outside}'",
        "PRAGMA writable_schema = ON",
    ],
)
def test_sql_cannot_reach_other_files_or_load_code(full: Session, outside: Path, sql: str) -> None:
    full.value("var db = require('database'); db.configure('sqlite3', ':memory:'), 1")
    error = full.caught(f"db.exec({js(sql.format(outside=outside))})")
    assert error["message"].startswith("database:")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_a_database_file_outside_the_worktree_is_refused(full: Session, outside: Path) -> None:
    error = full.caught(f"require('database').configure('sqlite3', {js(str(outside / 'x.db'))})")
    assert "EACCES" in error["message"]
    assert not (outside / "x.db").exists()


def test_without_fs_write_no_database_file_is_created(worktree: Path) -> None:
    with open_session(worktree, ["database"]) as s:
        error = s.caught("require('database').configure('sqlite3', 'new.db')")
    assert "fs:write" in error["message"]
    assert list(worktree.iterdir()) == []


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_a_huge_blob_does_not_take_the_process_to_gigabytes(worktree: Path) -> None:
    with open_session(worktree, ["database"], mem_mb=128) as s:
        s.value("var db = require('database'); db.configure('sqlite3', ':memory:'), 1")
        before = _rss_mb()
        error = s.caught("db.query('select zeroblob(9.9e8) b')")
        assert "too big" in error["message"]
        error = s.caught("db.query('select zeroblob(1e7) b')")
        assert "query result too large" in error["message"]
        rows = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 400000)"
        query = rows + " SELECT i, printf('%.40c', 120) FROM n"
        error = s.caught(f"db.query({js(query)})")
        assert "query result too large" in error["message"]
        grown = _rss_mb() - before
        s.assert_usable()
    assert grown < 400, f"the process grew by {grown:.0f} MB"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 4 * 1024 * 1024  # < 4 GiB
    assert os.listdir(worktree) == []
