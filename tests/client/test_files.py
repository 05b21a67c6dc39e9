"""The SDK's files methods (sync and async): raw bytes out and in, ranges, quoted paths, and
a local directory uploaded as one archive."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from vmsystem.client import FileNotFound, InvalidPath

from .conftest import envelope

#: The file routes, as the documented-route test counts them.
FILE_ROUTES = {
    ("PUT", "/api/v1/sessions/{}/files/{}"),
    ("GET", "/api/v1/sessions/{}/files/{}"),
    ("DELETE", "/api/v1/sessions/{}/files/{}"),
    ("GET", "/api/v1/sessions/{}/files"),
    ("POST", "/api/v1/sessions/{}/archive"),
    ("GET", "/api/v1/sessions/{}/archive"),
}


def test_write_file_sends_the_raw_bytes(make: Any) -> None:
    entry = {"path": "lib/k.mjs", "type": "file", "size": 3, "mtime": 1.0}
    api = make(lambda request: httpx.Response(200, json=entry))
    assert api.call("write_file", "s-1", "lib/k.mjs", b"\x00\x01\x02") == entry
    assert api.call("write_file", "s-1", "a b#?.txt", "é") == entry
    first, second = api.requests
    assert (first.method, first.url.path) == ("PUT", "/api/v1/sessions/s-1/files/lib/k.mjs")
    assert first.content == b"\x00\x01\x02"
    assert first.headers["content-type"] == "application/octet-stream"
    assert second.url.raw_path == b"/api/v1/sessions/s-1/files/a%20b%23%3F.txt"
    assert second.content == "é".encode()


def test_read_file_returns_bytes_and_sends_a_range(make: Any) -> None:
    api = make(lambda request: httpx.Response(200, content=b"\xff\x00bytes"))
    assert api.call("read_file", "s-1", "bin/data") == b"\xff\x00bytes"
    assert api.call("read_file", "s-1", "bin/data", start=2, end=5) == b"\xff\x00bytes"
    assert api.call("read_file", "s-1", "bin/data", start=-4) == b"\xff\x00bytes"
    plain, ranged, tail = api.requests
    assert "range" not in plain.headers
    assert ranged.headers["range"] == "bytes=2-5"
    assert tail.headers["range"] == "bytes=-4"


def test_a_missing_file_is_file_not_found(make: Any) -> None:
    api = make(lambda request: envelope(404, "FILE_NOT_FOUND", "File not found: x"))
    with pytest.raises(FileNotFound):
        api.call("read_file", "s-1", "x")


def test_delete_list_and_archives(make: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE":
            return httpx.Response(204)
        if request.url.path.endswith("/archive") and request.method == "GET":
            return httpx.Response(200, content=b"TARBYTES")
        if request.url.path.endswith("/archive"):
            return httpx.Response(200, json={"path": "proj", "files": []})
        return httpx.Response(200, json={"path": ".", "entries": [], "truncated": False})

    api = make(handler)
    assert api.call("delete_file", "s-1", "old.js") is None
    assert api.call("list_files", "s-1", "lib", recursive=True)["truncated"] is False
    assert api.call("upload_archive", "s-1", b"ZIP", path="proj") == {"path": "proj", "files": []}
    assert api.call("download_archive", "s-1", "proj", format="zip") == b"TARBYTES"
    delete, listing, upload, download = api.requests
    assert (delete.method, delete.url.path) == ("DELETE", "/api/v1/sessions/s-1/files/old.js")
    assert dict(listing.url.params) == {"path": "lib", "recursive": "true"}
    assert (upload.method, upload.content, dict(upload.url.params)) == (
        "POST",
        b"ZIP",
        {"path": "proj"},
    )
    assert dict(download.url.params) == {"path": "proj", "format": "zip"}


def test_upload_directory_packs_the_tree(make: Any, tmp_path: Path) -> None:
    (tmp_path / "src" / "lib").mkdir(parents=True)
    (tmp_path / "src" / "app.mjs").write_text("import './lib/k.mjs';")
    (tmp_path / "src" / "lib" / "k.mjs").write_text("export const k = 1;")
    (tmp_path / "src" / "link").symlink_to(tmp_path / "src" / "app.mjs")
    api = make(lambda request: httpx.Response(200, json={"path": ".", "files": []}))
    api.call("upload_directory", "s-1", tmp_path / "src")
    (request,) = api.requests
    with tarfile.open(fileobj=io.BytesIO(request.content)) as archive:
        assert sorted(archive.getnames()) == ["app.mjs", "lib", "lib/k.mjs"]


def test_create_session_without_a_worktree_sends_none(make: Any) -> None:
    api = make(lambda request: httpx.Response(201, json={"id": "s-1"}))
    api.call("create_session", "demo")
    (request,) = api.requests
    assert json.loads(request.content) == {"template_id": "demo"}


def test_dot_segments_reach_the_daemon(make: Any) -> None:
    api = make(lambda request: envelope(422, "INVALID_PATH", "Path leaves the worktree"))
    with pytest.raises(InvalidPath):
        api.call("write_file", "s-1", "../x.mjs", b"1")
    (request,) = api.requests
    assert request.url.raw_path == b"/api/v1/sessions/s-1/files/%2E%2E/x.mjs"
