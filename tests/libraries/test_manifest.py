"""Manifest writes are atomic and serialised, so a running daemon never reads a torn file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from vmsystem.libraries import LibraryCache, LibraryError
from vmsystem.libraries.manifest import ManifestEntry, parse_manifest

from .conftest import TINY_JS, sha256


def test_concurrent_reader_never_sees_a_partial_manifest(lib_dir: Path, umd_file: Path) -> None:
    writer = LibraryCache(lib_dir)
    writer.add_local(umd_file, "seed", "1", "tiny")
    manifest = lib_dir / "manifest.json"
    stop = threading.Event()
    torn: list[str] = []
    reads = 0

    def read_loop() -> None:
        nonlocal reads
        while not stop.is_set():
            text = manifest.read_text()
            reads += 1
            try:
                json.loads(text)
            except ValueError:
                torn.append(text)

    reader = threading.Thread(target=read_loop)
    reader.start()
    try:
        for i in range(60):
            writer.add_local(umd_file, f"lib{i}", "1.0.0", "tiny")
    finally:
        stop.set()
        reader.join()
    assert reads > 0
    assert torn == []


def test_a_failed_manifest_write_leaves_the_old_manifest_and_no_temporary(
    lib_dir: Path, umd_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = LibraryCache(lib_dir)
    first = cache.add_local(umd_file, "first", "1", "tiny")
    before = (lib_dir / "manifest.json").read_bytes()

    real_fsync = os.fsync
    calls: list[int] = []

    def fsync_failing_on_the_manifest(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:  # 1: the library file, 2: the manifest
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_failing_on_the_manifest)
    with pytest.raises(LibraryError, match="No space left"):
        cache.add_local(umd_file, "second", "1", "tiny")
    monkeypatch.undo()
    assert len(calls) == 2
    assert (lib_dir / "manifest.json").read_bytes() == before
    assert not [p for p in os.listdir(lib_dir) if p.endswith(".tmp")]
    assert cache.list() == [first]


_WRITER = """
import sys
from vmsystem.libraries import LibraryCache
cache = LibraryCache(sys.argv[1])
for i in range(15):
    cache.add_local(sys.argv[2], f"p{sys.argv[3]}-lib{i}", "1.0.0", "tiny")
"""


def test_concurrent_writer_processes_lose_no_entries(lib_dir: Path, umd_file: Path) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(lib_dir), str(umd_file), str(n)])
        for n in range(4)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0, 0]
    names = {e.name for e in LibraryCache(lib_dir).list()}
    assert names == {f"p{n}-lib{i}" for n in range(4) for i in range(15)}


def test_duplicate_manifest_entries_keep_the_last() -> None:
    base = {
        "name": "x",
        "version": "1",
        "file": "x-1.js",
        "size": 1,
        "global": "x",
        "source": "local",
    }
    doc = {"format": 1, "libraries": [{**base, "sha256": "a" * 64}, {**base, "sha256": "b" * 64}]}
    [entry] = parse_manifest(json.dumps(doc))
    assert entry.sha256 == "b" * 64


@pytest.mark.parametrize("doc", ["[]", '{"libraries": {}}', '"x"', "{}"])
def test_a_document_that_is_not_a_manifest_is_refused(doc: str) -> None:
    with pytest.raises(LibraryError, match="not a vm-system library manifest"):
        parse_manifest(doc)


def test_manifest_entry_round_trips_through_json() -> None:
    entry = ManifestEntry("x", "1.0.0", "x-1.0.0.js", sha256(TINY_JS), 5, "x", "npm", "npm:x")
    assert ManifestEntry.from_json(json.loads(json.dumps(entry.to_json()))) == entry
