"""Managed worktrees and the files API against a real daemon, on process hosts and on Ray
hosts (a real local Ray cluster): the issue's acceptance list."""

from __future__ import annotations

import http.client as httplib
import io
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import Daemon, create_template, free_port
from .mcp_clients import connect, data

BACKENDS = ("process", "ray")


@pytest.fixture(scope="module", params=BACKENDS)
def files_daemon(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Daemon]:
    """A daemon on ``process`` or ``ray`` hosts with its managed worktrees in a temporary
    directory."""
    root = tmp_path_factory.mktemp(f"files-{request.param}")
    (root / "cache").mkdir()
    flags = ["--worktrees-dir", str(root / "worktrees"), "--host-processes", "1"]
    if request.param == "ray":
        flags += ["--hosts", "ray", "--ray-address", request.getfixturevalue("ray_cluster")]
    daemon = Daemon(
        db=root / "vm.db",
        cache_dir=root / "cache",
        log=root / "daemon.log",
        port=free_port(),
        flags=tuple(flags),
    )
    daemon.start()
    yield daemon
    code, _ = daemon.terminate(timeout=60)
    assert code == 0, daemon.output()


@pytest.fixture
def http(files_daemon: Daemon) -> Iterator[httpx.Client]:
    with files_daemon.client() as client:
        yield client


def _managed_session(http: httpx.Client) -> dict[str, Any]:
    template = create_template(http, f"files-{id(http)}-{len(http.get('/templates').json())}")
    response = http.post("/sessions", json={"template_id": template["id"]})
    assert response.status_code == 201, response.text
    session: dict[str, Any] = response.json()
    return session


def test_a_managed_session_runs_uploaded_files(http: httpx.Client) -> None:
    session = _managed_session(http)
    assert session["status"] == "ready" and session["worktree_managed"] is True
    worktree = Path(session["worktree_path"])
    assert worktree.is_absolute() and worktree.is_dir()
    files = f"/sessions/{session['id']}/files"
    library = b"export const k = 41;\n"
    app = b"import { k } from './lib/k.mjs';\nconsole.log('answer', k + 1);\n"
    assert http.put(f"{files}/lib/k.mjs", content=library).status_code == 200
    assert http.put(f"{files}/app.mjs", content=app).status_code == 200
    run = http.post("/executions/run-file", json={"session_id": session["id"], "path": "app.mjs"})
    assert run.status_code == 201 and run.json()["status"] == "ok", run.text
    events = http.get(f"/executions/{run.json()['id']}/events").json()
    assert any(e["type"] == "console" and "answer 42" in e["payload"]["text"] for e in events), (
        events
    )
    assert http.get(f"{files}/lib/k.mjs").content == library
    assert http.get(f"{files}/app.mjs").content == app
    listing = http.get(files, params={"recursive": "true"}).json()["entries"]
    assert {e["path"] for e in listing} == {"app.mjs", "lib", "lib/k.mjs"}
    assert http.delete(f"{files}/app.mjs").status_code == 204
    gone = http.get(f"{files}/app.mjs")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "FILE_NOT_FOUND"


def _raw(daemon: Daemon, method: str, path: str, body: bytes | None = None) -> int:
    """A request with the path sent exactly as written (an HTTP client library would
    normalise ``..`` away before sending)."""
    connection = httplib.HTTPConnection("127.0.0.1", daemon.port, timeout=30)
    try:
        connection.request(
            method, f"/api/v1{path}", body=body, headers={"X-Requested-With": "tests"}
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.mark.parametrize(
    "escape",
    [
        "../escape.txt",
        "lib/../../escape.txt",
        "%2E%2E/escape.txt",
        "%2e%2e%2fescape.txt",
        "%2F{outside}%2Fescape.txt",
        "link/escape.txt",
    ],
)
def test_escapes_are_refused_for_put_and_get(
    files_daemon: Daemon, http: httpx.Client, tmp_path: Path, escape: str
) -> None:
    session = _managed_session(http)
    worktree = Path(session["worktree_path"])
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "escape.txt").write_text("secret")
    (worktree / "link").symlink_to(outside)
    path = escape.replace("{outside}", str(outside).strip("/").replace("/", "%2F"))
    before = sorted(p.name for p in worktree.parent.iterdir())
    put = _raw(files_daemon, "PUT", f"/sessions/{session['id']}/files/{path}", b"pwned")
    get = _raw(files_daemon, "GET", f"/sessions/{session['id']}/files/{path}")
    assert 400 <= put < 500 and 400 <= get < 500, (put, get)
    assert (outside / "escape.txt").read_text() == "secret"
    assert sorted(p.name for p in worktree.parent.iterdir()) == before
    assert sorted(p.name for p in outside.iterdir()) == ["escape.txt"]


def test_purge_removes_a_managed_worktree_never_an_explicit_one(
    http: httpx.Client, tmp_path: Path
) -> None:
    managed = _managed_session(http)
    explicit_dir = tmp_path / "explicit"
    explicit_dir.mkdir()
    (explicit_dir / "keep.js").write_text("1")
    template = create_template(http, f"explicit-{managed['id']}")
    explicit = http.post(
        "/sessions", json={"template_id": template["id"], "worktree_path": str(explicit_dir)}
    ).json()
    assert explicit["worktree_managed"] is False
    http.put(f"/sessions/{managed['id']}/files/a.js", content=b"1")
    for session in (managed, explicit):
        assert http.post(f"/sessions/{session['id']}/close").status_code == 200
    assert Path(managed["worktree_path"]).is_dir()  # closing keeps it
    for session in (managed, explicit):
        purged = http.delete(f"/sessions/{session['id']}", params={"purge": "true"})
        assert purged.status_code == 200, purged.text
    assert not Path(managed["worktree_path"]).exists()
    assert (explicit_dir / "keep.js").read_text() == "1"


@pytest.mark.parametrize("member", ["../x.js", "symlink"])
def test_an_archive_with_a_bad_member_is_refused_as_a_whole(
    http: httpx.Client, member: str
) -> None:
    session = _managed_session(http)
    worktree = Path(session["worktree_path"])
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        good = tarfile.TarInfo("good.js")
        good.size = 1
        archive.addfile(good, io.BytesIO(b"1"))
        bad = tarfile.TarInfo(member)
        if member == "symlink":
            bad.type = tarfile.SYMTYPE
            bad.linkname = "/etc/passwd"
            archive.addfile(bad)
        else:
            bad.size = 1
            archive.addfile(bad, io.BytesIO(b"2"))
    response = http.post(f"/sessions/{session['id']}/archive", content=buffer.getvalue())
    assert response.status_code == 422 and response.json()["error"]["code"] == "INVALID_ARCHIVE"
    assert list(worktree.iterdir()) == []
    assert not (worktree.parent / "x.js").exists()


def test_a_project_tree_goes_up_and_down_as_one_archive(http: httpx.Client) -> None:
    session = _managed_session(http)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in (("src/main.js", b"20 + 22"), ("README", b"hi")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    up = http.post(f"/sessions/{session['id']}/archive", content=buffer.getvalue())
    assert up.status_code == 200, up.text
    run = http.post(
        "/executions/run-file", json={"session_id": session["id"], "path": "src/main.js"}
    )
    assert run.json()["result"]["json"] == 42
    down = http.get(f"/sessions/{session['id']}/archive")
    with tarfile.open(fileobj=io.BytesIO(down.content)) as archive:
        assert sorted(archive.getnames()) == ["README", "src", "src/main.js"]


async def test_the_mcp_flow_on_a_managed_session(files_daemon: Daemon, http: httpx.Client) -> None:
    """create_session (no path) -> write_file -> run_js importing that file, with the official
    MCP SDK's client over the daemon's /mcp, on this module's host backend."""
    template = create_template(http, f"mcp-files-{uuid.uuid4().hex[:8]}")
    async with connect(files_daemon.url, "http", None) as client:
        created = data(await client.call_tool("create_session", {"template": template["name"]}))
        assert created["worktree_managed"] is True
        sid = created["id"]
        data(
            await client.call_tool(
                "write_file",
                {"session_id": sid, "path": "lib/k.mjs", "content": "export const k = 41;\n"},
            )
        )
        ran = data(
            await client.call_tool(
                "run_js",
                {"session_id": sid, "code": "const { k } = await import('./lib/k.mjs'); k + 1"},
            )
        )
        assert ran["status"] == "ok" and ran["value"]["json"] == 42, ran
