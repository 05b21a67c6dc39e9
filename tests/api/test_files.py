"""The files API over HTTP: managed sessions, raw bytes in and out, ranges, listings,
archives, confinement (percent-encoded forms too), the size limit and the token."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from .conftest import API, ClientFactory
from .helpers import assert_envelope


def _session(client: TestClient, **body: Any) -> dict[str, Any]:
    template = client.post(f"{API}/templates", json={"name": f"t{len(body)}-{id(body)}"}).json()
    response = client.post(f"{API}/sessions", json={"template_id": template["id"], **body})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def test_a_session_without_worktree_path_is_managed(client: TestClient) -> None:
    session = _session(client)
    assert session["status"] == "ready"
    assert session["worktree_managed"] is True and session["worktree_removed_at"] is None
    assert Path(session["worktree_path"]).is_absolute()
    assert Path(session["worktree_path"]).is_dir()


def test_put_get_list_delete(client: TestClient) -> None:
    sid = _session(client)["id"]
    files = f"{API}/sessions/{sid}/files"
    put = client.put(f"{files}/lib/k.mjs", content=b"export const k = 41;")
    assert put.status_code == 200, put.text
    assert put.json()["path"] == "lib/k.mjs" and put.json()["size"] == 20
    assert client.put(f"{files}/app.js", content=b"globalThis.k = 41; k + 1").status_code == 200
    run = client.post(f"{API}/executions/run-file", json={"session_id": sid, "path": "app.js"})
    assert run.status_code == 201 and run.json()["result"]["json"] == 42, run.text

    got = client.get(f"{files}/lib/k.mjs")
    assert got.status_code == 200 and got.content == b"export const k = 41;"
    assert got.headers["content-type"].startswith("text/javascript")
    assert got.headers["accept-ranges"] == "bytes"

    listing = client.get(files, params={"recursive": "true"}).json()
    assert [(e["path"], e["type"]) for e in listing["entries"]] == [
        ("app.js", "file"),
        ("lib", "directory"),
        ("lib/k.mjs", "file"),
    ]
    assert listing["truncated"] is False
    assert [e["path"] for e in client.get(files, params={"path": "lib"}).json()["entries"]] == [
        "lib/k.mjs"
    ]

    assert client.delete(f"{files}/lib/k.mjs").status_code == 204
    assert_envelope(client.get(f"{files}/lib/k.mjs"), 404, "FILE_NOT_FOUND")
    assert_envelope(client.delete(f"{files}/lib/k.mjs"), 404, "FILE_NOT_FOUND")


def test_binary_content_and_ranges(client: TestClient) -> None:
    sid = _session(client)["id"]
    url = f"{API}/sessions/{sid}/files/data.bin"
    client.put(url, content=bytes(range(256)))
    got = client.get(url)
    assert got.content == bytes(range(256))
    assert got.headers["content-type"] == "application/octet-stream"
    part = client.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == bytes(range(10, 20))
    assert part.headers["content-range"] == "bytes 10-19/256"
    tail = client.get(url, headers={"Range": "bytes=-6"})
    assert tail.status_code == 206 and tail.content == bytes(range(250, 256))
    assert client.get(url, headers={"Range": "bytes=250-"}).headers["content-range"] == (
        "bytes 250-255/256"
    )
    assert_envelope(client.get(url, headers={"Range": "bytes=300-"}), 416, "RANGE_NOT_SATISFIABLE")


@pytest.mark.parametrize(
    "path",
    [
        "%2E%2E/escape.txt",
        "a/%2E%2E/%2E%2E/escape.txt",
        "%2Ftmp%2Fescape.txt",
        "%2e%2e%2fescape.txt",
    ],
)
def test_percent_encoded_escapes_are_refused(client: TestClient, path: str) -> None:
    session = _session(client)
    files = f"{API}/sessions/{session['id']}/files"
    outside = Path(session["worktree_path"]).parent
    assert_envelope(client.put(f"{files}/{path}", content=b"x"), 422, "INVALID_PATH")
    assert_envelope(client.get(f"{files}/{path}"), 422, "INVALID_PATH")
    assert not (outside / "escape.txt").exists()
    assert not Path("/tmp/escape.txt").exists()


def test_a_symlink_out_is_refused(client: TestClient, tmp_path: Path) -> None:
    session = _session(client)
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key").write_text("private")
    (Path(session["worktree_path"]) / "out").symlink_to(secret)
    files = f"{API}/sessions/{session['id']}/files"
    assert_envelope(client.get(f"{files}/out/key"), 422, "INVALID_PATH")
    assert_envelope(client.put(f"{files}/out/new", content=b"x"), 422, "INVALID_PATH")
    assert sorted(p.name for p in secret.iterdir()) == ["key"]


def test_a_body_over_max_file_bytes_is_413(make_client: ClientFactory) -> None:
    client = make_client(max_file_bytes=16)
    sid = _session(client)["id"]
    url = f"{API}/sessions/{sid}/files/big"
    assert client.put(url, content=b"x" * 16).status_code == 200
    assert_envelope(client.put(url, content=b"x" * 17), 413, "PAYLOAD_TOO_LARGE")
    assert client.get(url).content == b"x" * 16


def test_file_uploads_may_exceed_max_request_bytes(make_client: ClientFactory) -> None:
    client = make_client(max_request_bytes=1024)
    sid = _session(client)["id"]
    big = b"y" * 4096
    assert client.put(f"{API}/sessions/{sid}/files/big", content=big).status_code == 200
    assert client.get(f"{API}/sessions/{sid}/files/big").content == big


def _tar(**members: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_archive_upload_and_download(client: TestClient) -> None:
    sid = _session(client)["id"]
    up = client.post(
        f"{API}/sessions/{sid}/archive",
        content=_tar(**{"app.js": b"1 + 1", "lib/k.js": b"2"}),
        params={"path": "proj"},
    )
    assert up.status_code == 200, up.text
    assert sorted(f["path"] for f in up.json()["files"]) == ["proj/app.js", "proj/lib/k.js"]
    run = client.post(f"{API}/executions/run-file", json={"session_id": sid, "path": "proj/app.js"})
    assert run.json()["result"]["json"] == 2

    tar = client.get(f"{API}/sessions/{sid}/archive", params={"path": "proj"})
    assert tar.status_code == 200 and tar.headers["content-type"] == "application/gzip"
    assert 'filename="proj.tar.gz"' in tar.headers["content-disposition"]
    with tarfile.open(fileobj=io.BytesIO(tar.content)) as archive:
        assert sorted(archive.getnames()) == ["app.js", "lib", "lib/k.js"]
    zipped = client.get(f"{API}/sessions/{sid}/archive", params={"format": "zip"})
    assert zipped.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        assert "proj/lib/k.js" in archive.namelist()
    assert_envelope(
        client.get(f"{API}/sessions/{sid}/archive", params={"format": "rar"}),
        400,
        "VALIDATION_ERROR",
    )


def test_an_archive_with_a_bad_member_is_refused_as_a_whole(client: TestClient) -> None:
    session = _session(client)
    sid = session["id"]
    bad = _tar(**{"good.js": b"1", "../x.js": b"2"})
    response = client.post(f"{API}/sessions/{sid}/archive", content=bad)
    assert_envelope(response, 422, "INVALID_ARCHIVE")
    assert client.get(f"{API}/sessions/{sid}/files").json()["entries"] == []
    assert not (Path(session["worktree_path"]).parent / "x.js").exists()


def test_a_closed_session_has_no_files_to_serve(client: TestClient) -> None:
    sid = _session(client)["id"]
    client.put(f"{API}/sessions/{sid}/files/a", content=b"a")
    client.post(f"{API}/sessions/{sid}/close")
    assert_envelope(client.get(f"{API}/sessions/{sid}/files/a"), 409, "SESSION_NOT_READY")
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_envelope(client.get(f"{API}/sessions/{unknown}/files/a"), 404, "SESSION_NOT_FOUND")


def test_purge_removes_the_managed_worktree(client: TestClient) -> None:
    session = _session(client)
    sid = session["id"]
    client.put(f"{API}/sessions/{sid}/files/a", content=b"a")
    client.post(f"{API}/sessions/{sid}/close")
    assert Path(session["worktree_path"]).is_dir()
    assert client.delete(f"{API}/sessions/{sid}", params={"purge": "true"}).status_code == 200
    assert not Path(session["worktree_path"]).exists()


def test_the_files_api_needs_the_token(make_client: ClientFactory) -> None:
    client = make_client(auth_token="secret")
    client.headers["Authorization"] = "Bearer secret"
    sid = _session(client)["id"]
    del client.headers["Authorization"]
    assert_envelope(client.put(f"{API}/sessions/{sid}/files/a", content=b"a"), 401, "UNAUTHORIZED")
    assert_envelope(client.get(f"{API}/sessions/{sid}/files"), 401, "UNAUTHORIZED")
