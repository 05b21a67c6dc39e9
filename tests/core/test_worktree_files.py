"""The confined file operations below the core (vmsystem.modules.worktree and .archives), on a
real directory: confinement, atomic writes, ranges, listings and archives."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from vmsystem.modules.fileops import perform
from vmsystem.modules.worktree import FileReply, FileRequest, WorktreeError


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "wt"
    path.mkdir()
    return path


def _refused(root: Path, request: FileRequest, code: str) -> WorktreeError:
    with pytest.raises(WorktreeError) as caught:
        perform(root, request)
    assert caught.value.code == code, caught.value.to_dict()
    return caught.value


def test_write_creates_parents_and_replaces_atomically(root: Path) -> None:
    perform(root, FileRequest("write", path="a/b/c.txt", data=b"one"))
    reply = perform(root, FileRequest("write", path="a/b/c.txt", data=b"two!"))
    assert reply.size == 4
    assert (root / "a/b/c.txt").read_bytes() == b"two!"
    # The temporary file of the atomic replace is gone.
    assert sorted(os.listdir(root / "a/b")) == ["c.txt"]


@pytest.mark.parametrize("path", ["../x", "a/../../x", "/etc/passwd", "", ".", "a\x00b"])
def test_paths_out_of_the_worktree_are_refused(root: Path, tmp_path: Path, path: str) -> None:
    _refused(root, FileRequest("write", path=path, data=b"x"), "INVALID_PATH")
    _refused(root, FileRequest("read", path=path), "INVALID_PATH")
    assert not (tmp_path / "x").exists()


def test_a_symlink_out_is_refused_for_read_write_and_listing(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("s")
    (root / "link").symlink_to(outside)
    _refused(root, FileRequest("read", path="link/secret"), "INVALID_PATH")
    _refused(root, FileRequest("write", path="link/new", data=b"x"), "INVALID_PATH")
    _refused(root, FileRequest("list", path="link"), "INVALID_PATH")
    assert sorted(os.listdir(outside)) == ["secret"]
    # Deleting the link removes the link, never what it points to.
    perform(root, FileRequest("delete", path="link"))
    assert not (root / "link").exists() and (outside / "secret").exists()


def test_a_symlink_inside_is_followed(root: Path) -> None:
    (root / "real.txt").write_text("hello")
    (root / "alias.txt").symlink_to(root / "real.txt")
    assert perform(root, FileRequest("read", path="alias.txt")).data == b"hello"


def test_ranges(root: Path) -> None:
    (root / "f").write_bytes(b"0123456789")
    reply = perform(root, FileRequest("read", path="f", start=2, end=4))
    assert (reply.data, reply.start, reply.end, reply.size) == (b"234", 2, 4, 10)
    assert perform(root, FileRequest("read", path="f", start=7)).data == b"789"
    assert perform(root, FileRequest("read", path="f", suffix=3)).data == b"789"
    assert perform(root, FileRequest("read", path="f", start=8, end=99)).data == b"89"
    _refused(root, FileRequest("read", path="f", start=10), "RANGE_NOT_SATISFIABLE")


def test_a_read_larger_than_the_limit_is_refused(root: Path) -> None:
    (root / "big").write_bytes(b"x" * 100)
    _refused(root, FileRequest("read", path="big", max_bytes=10), "PAYLOAD_TOO_LARGE")
    assert perform(root, FileRequest("read", path="big", start=0, end=9, max_bytes=10)).data


def test_missing_files_and_directories(root: Path) -> None:
    (root / "d").mkdir()
    _refused(root, FileRequest("read", path="nope"), "FILE_NOT_FOUND")
    _refused(root, FileRequest("delete", path="nope"), "FILE_NOT_FOUND")
    _refused(root, FileRequest("read", path="d"), "INVALID_PATH")
    _refused(root, FileRequest("write", path="d", data=b""), "INVALID_PATH")


def test_listing_flat_and_recursive(root: Path) -> None:
    perform(root, FileRequest("write", path="lib/k.mjs", data=b"k"))
    perform(root, FileRequest("write", path="app.mjs", data=b"app"))
    flat = perform(root, FileRequest("list"))
    assert [(e["path"], e["type"]) for e in flat.entries] == [
        ("app.mjs", "file"),
        ("lib", "directory"),
    ]
    deep = perform(root, FileRequest("list", recursive=True))
    assert [e["path"] for e in deep.entries] == ["app.mjs", "lib", "lib/k.mjs"]
    assert deep.entries[0]["size"] == 3 and deep.entries[0]["mtime"] > 0
    assert [e["path"] for e in perform(root, FileRequest("list", path="lib")).entries] == [
        "lib/k.mjs"
    ]


def test_delete_a_directory_with_its_contents(root: Path) -> None:
    perform(root, FileRequest("write", path="d/e/f", data=b"x"))
    perform(root, FileRequest("delete", path="d"))
    assert os.listdir(root) == []


def _tar(members: list[tarfile.TarInfo], data: bytes = b"hi") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info in members:
            if info.isfile():
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
            else:
                archive.addfile(info)
    return buffer.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


@pytest.mark.parametrize(
    "bad",
    [
        _member("../x"),
        _member("a/../../x"),
        _member("/tmp/x"),
        _member("link", tarfile.SYMTYPE, "/etc/passwd"),
        _member("inner", tarfile.SYMTYPE, "ok.txt"),
        _member("hard", tarfile.LNKTYPE, "ok.txt"),
        _member("fifo", tarfile.FIFOTYPE),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink-out", "symlink-in", "hardlink", "fifo"],
)
def test_a_tar_with_a_refused_member_is_refused_as_a_whole(
    root: Path, tmp_path: Path, bad: tarfile.TarInfo
) -> None:
    data = _tar([_member("ok.txt"), bad, _member("z.txt")])
    _refused(root, FileRequest("unpack", data=data), "INVALID_ARCHIVE")
    assert os.listdir(root) == []
    assert not (tmp_path / "x").exists()


def test_a_zip_with_a_symlink_or_dotdot_member_is_refused(root: Path) -> None:
    for name, mode in (("link", 0o120777), ("../x", 0o100644)):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("ok.txt", b"ok")
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            archive.writestr(info, b"/etc/passwd")
        _refused(root, FileRequest("unpack", data=buffer.getvalue()), "INVALID_ARCHIVE")
        assert os.listdir(root) == []


def test_a_member_through_an_existing_symlink_out_is_refused(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside)
    data = _tar([_member("ok.txt"), _member("link/evil")])
    _refused(root, FileRequest("unpack", data=data), "INVALID_PATH")
    assert os.listdir(outside) == [] and not (root / "ok.txt").exists()


def test_garbage_is_an_invalid_archive(root: Path) -> None:
    _refused(root, FileRequest("unpack", data=b"not an archive at all"), "INVALID_ARCHIVE")


def test_an_archive_unpacking_past_the_limit_is_refused(root: Path) -> None:
    data = _tar([_member("a"), _member("b")], b"x" * 600)
    _refused(root, FileRequest("unpack", data=data, max_bytes=1000), "PAYLOAD_TOO_LARGE")
    assert os.listdir(root) == []


@pytest.mark.parametrize("fmt", ["tar", "zip"])
def test_pack_and_unpack_round_trip(root: Path, tmp_path: Path, fmt: str) -> None:
    perform(root, FileRequest("write", path="lib/k.mjs", data=b"export const k = 1;"))
    perform(root, FileRequest("write", path="app.mjs", data=b"import './lib/k.mjs';"))
    (root / "empty").mkdir()
    (root / "link").symlink_to(root / "app.mjs")
    packed = perform(root, FileRequest("pack", format=fmt))
    assert isinstance(packed, FileReply) and packed.data
    copy = tmp_path / "copy"
    copy.mkdir()
    written = perform(copy, FileRequest("unpack", path="sub", data=packed.data))
    assert sorted(e["path"] for e in written.entries) == ["sub/app.mjs", "sub/lib/k.mjs"]
    assert (copy / "sub/lib/k.mjs").read_bytes() == b"export const k = 1;"
    assert (copy / "sub/empty").is_dir()
    assert not (copy / "sub/link").exists()  # symlinks are left out of a download


def test_a_request_survives_its_json_form() -> None:
    request = FileRequest("read", path="a", data=b"\x00\xff", start=1, end=2, max_bytes=9)
    assert FileRequest.from_dict(request.to_dict()) == request
    reply = FileReply(path="a", data=b"\x01", size=1, entries=[{"path": "a"}], truncated=True)
    assert FileReply.from_dict(reply.to_dict()) == reply
