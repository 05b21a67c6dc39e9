"""The host seam's file operations, on every backend: the host creates a managed worktree and
serves the session's files where it runs; refusals cross the boundary with their code."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from vmsystem.hosts import HostPool
from vmsystem.modules.worktree import FileRequest, WorktreeError
from vmsystem.runtime import EngineError

from .conftest import Lost, spec, value


def test_a_managed_worktree_is_created_by_the_host_and_serves_files(
    pool: HostPool, tmp_path: Path
) -> None:
    worktree = tmp_path / "managed" / "s1"
    rt = pool.start_runtime(replace(spec(tmp_path), worktree=str(worktree), managed=True), Lost())
    try:
        assert worktree.is_dir()
        written = rt.files(FileRequest("write", path="lib/k.txt", data=b"\x00bytes\xff"))
        assert (written.path, written.size) == ("lib/k.txt", 7)
        assert (worktree / "lib/k.txt").read_bytes() == b"\x00bytes\xff"
        assert rt.files(FileRequest("read", path="lib/k.txt", start=1, end=5)).data == b"bytes"
        listing = rt.files(FileRequest("list", recursive=True))
        assert [e["path"] for e in listing.entries] == ["lib", "lib/k.txt"]
        archive = rt.files(FileRequest("pack", format="zip")).data
        rt.files(FileRequest("unpack", path="copy", data=archive))
        assert (worktree / "copy/lib/k.txt").read_bytes() == b"\x00bytes\xff"
        rt.files(FileRequest("delete", path="copy"))
        assert sorted(os.listdir(worktree)) == ["lib"]
        # Code in the session sees what the files API wrote, and the other way round.
        assert value(rt, "typeof globalThis") == "object"
    finally:
        rt.close()
    pool.remove_worktree(str(worktree))
    assert not worktree.exists()


def test_refusals_cross_the_host_boundary_with_their_code(pool: HostPool, tmp_path: Path) -> None:
    (tmp_path / "wt").mkdir()
    rt = pool.start_runtime(spec(tmp_path / "wt"), Lost())
    try:
        for request, code in (
            (FileRequest("read", path="../outside"), "INVALID_PATH"),
            (FileRequest("read", path="missing"), "FILE_NOT_FOUND"),
            (FileRequest("unpack", data=b"garbage"), "INVALID_ARCHIVE"),
        ):
            with pytest.raises(WorktreeError) as caught:
                rt.files(request)
            assert caught.value.code == code
            assert caught.value.message
    finally:
        rt.close()


def test_a_closed_runtime_serves_no_files(pool: HostPool, tmp_path: Path) -> None:
    rt = pool.start_runtime(spec(tmp_path), Lost())
    rt.close()
    with pytest.raises(EngineError):
        rt.files(FileRequest("list"))


def test_removing_a_missing_worktree_is_a_no_op(pool: HostPool, tmp_path: Path) -> None:
    pool.remove_worktree(str(tmp_path / "never-created"))
    assert tmp_path.is_dir()
