"""``vm-system libs``: the local library cache, without a daemon (and one npm test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Run
from .fake_daemon import FakeDaemon


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("VMSYSTEM_CACHE_DIR", str(path))
    return path


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "mylib.js"
    path.write_text('globalThis.mylib = { hi: () => "hi" };\n')
    return path


def test_cache_info_empty(run: Run, cache: Path) -> None:
    result = run("libs", "cache-info")
    assert result.exit_code == 0
    assert result.stdout == "No libraries cached. Run 'vm-system libs download' first.\n"
    assert json.loads(run("libs", "cache-info", "-o", "json").stdout) == []


def test_add_then_cache_info(run: Run, cache: Path, script: Path, daemon: FakeDaemon) -> None:
    result = run(
        "libs", "add", str(script), "--name", "mylib", "--version", "1.0.0", "--global", "mylib"
    )
    assert result.exit_code == 0, result.stderr
    target = cache / "mylib-1.0.0.js"
    assert result.stdout == f"Added library: mylib@1.0.0 (global mylib) to {target}\n"
    assert target.read_text() == script.read_text()
    size = target.stat().st_size
    assert run("libs", "cache-info").stdout.splitlines() == [
        "Cached libraries (1):",
        f"  mylib@1.0.0: {size} bytes ({target})",
        "",
        f"Total cache size: {size} bytes ({size / 1024:.2f} KB)",
    ]
    manifest = json.loads((cache / "manifest.json").read_text())
    assert "mylib" in json.dumps(manifest)
    assert daemon.requests == []


def test_cache_dir_flag_beats_env(run: Run, cache: Path, script: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    run(
        "libs",
        "add",
        str(script),
        "--name",
        "mylib",
        "--version",
        "1.0.0",
        "--global",
        "mylib",
        "--cache-dir",
        str(other),
    )
    assert (other / "mylib-1.0.0.js").exists()
    assert not cache.exists()
    assert "mylib@1.0.0" in run("libs", "cache-info", "--cache-dir", str(other)).stdout


def test_list_catalog_and_local(run: Run, cache: Path, script: Path) -> None:
    before = run("libs", "list").stdout
    assert before.startswith("Available libraries (")
    for name in ("lodash", "dayjs", "ramda", "moment"):
        assert f"  {name} - " in before
    assert "    Global: _\n" in before
    run("libs", "add", str(script), "--name", "mylib", "--version", "1.0.0", "--global", "mylib")
    rows = json.loads(run("libs", "list", "-o", "json").stdout)
    local = next(r for r in rows if r["name"] == "mylib")
    assert local["cached"] is True and local["global"] == "mylib"
    lodash = next(r for r in rows if r["name"] == "lodash")
    assert lodash["cached"] is False and lodash["global"] == "_"
    text = run("libs", "list").stdout
    assert "  mylib - mylib v1.0.0\n" in text
    assert f"    Source: local file {script.resolve()}\n" in text


def test_add_rejects_bad_input(run: Run, cache: Path, script: Path, tmp_path: Path) -> None:
    bad = run("libs", "add", str(script), "--name", "../evil", "--version", "1", "--global", "x")
    assert bad.exit_code == 1
    assert bad.stderr.startswith("Error: invalid library name ")
    missing = run(
        "libs", "add", str(tmp_path / "nope.js"), "--name", "x", "--version", "1", "--global", "x"
    )
    assert missing.exit_code == 1
    assert missing.stderr == f"Error: {tmp_path / 'nope.js'} is not a regular file\n"
    assert not (cache / "manifest.json").exists()


def test_download_cache_hit_needs_no_npm(
    run: Run, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dayjs = tmp_path / "dayjs.js"
    dayjs.write_text("globalThis.dayjs = function () {};\n")
    run("libs", "add", str(dayjs), "--name", "dayjs", "--version", "1.11.10", "--global", "dayjs")
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm reachable
    result = run("libs", "download", "dayjs")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"Downloading libraries to: {cache}",
        "  dayjs@1.11.10: cached",
        "",
        "Cache info:",
        f"  dayjs@1.11.10: {dayjs.stat().st_size} bytes ({cache / 'dayjs-1.11.10.js'})",
    ]


def test_download_errors(
    run: Run, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = run("libs", "download", "leftpad")
    assert unknown.exit_code == 1
    assert unknown.stderr.startswith("Error: leftpad is not in the catalog")
    monkeypatch.setenv("PATH", str(tmp_path))
    no_npm = run("libs", "download", "lodash")
    assert no_npm.exit_code == 1
    assert no_npm.stderr.startswith("Error: ")
    assert "npm" in no_npm.stderr


def test_list_available_libraries(run: Run) -> None:
    catalog = json.loads(run("template", "list-available-libraries").stdout)
    lodash = next(e for e in catalog if e["name"] == "lodash")
    assert lodash["version"] == "4.17.21" and lodash["global"] == "_"


@pytest.mark.network
def test_download_from_npm(run: Run, cache: Path) -> None:
    result = run("libs", "download", "dayjs")
    assert result.exit_code == 0, result.stderr
    assert "  dayjs@1.11.10: downloaded" in result.stdout
    assert (cache / "dayjs-1.11.10.js").stat().st_size == 7160
    again = run("libs", "download", "dayjs")
    assert "  dayjs@1.11.10: cached" in again.stdout


def test_add_library_download_fetches_before_adding(
    run: Run, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, daemon: FakeDaemon
) -> None:
    dayjs = tmp_path / "dayjs.js"
    dayjs.write_text("globalThis.dayjs = function () {};\n")
    run("libs", "add", str(dayjs), "--name", "dayjs", "--version", "1.11.10", "--global", "dayjs")
    tid = run("template", "create", "--name", "demo").stdout.split("(ID: ")[1][:-2]
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm: only a cache hit can succeed
    result = run("template", "add-library", tid, "--name", "dayjs", "--download")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"Added library: dayjs to template {tid}\n"
    assert result.stderr == "  dayjs@1.11.10: cached\n", "progress goes to stderr"
    assert daemon.requests[-1].url.path == f"/api/v1/templates/{tid}/libraries"


def test_add_library_download_failure_adds_nothing(
    run: Run, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, daemon: FakeDaemon
) -> None:
    tid = run("template", "create", "--name", "demo").stdout.split("(ID: ")[1][:-2]
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run("template", "add-library", tid, "--name", "lodash", "--download")
    assert result.exit_code == 1
    assert "npm" in result.stderr
    assert not any(r.url.path.endswith("/libraries") for r in daemon.requests)
