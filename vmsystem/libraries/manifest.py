"""The cache manifest (``manifest.json``): what is cached, with which checksum.

Format::

    {"format": 1,
     "libraries": [{"name": "lodash", "version": "4.17.21", "file": "lodash-4.17.21.js",
                    "sha256": "...", "size": 73015, "global": "_", "source": "npm",
                    "origin": "npm:lodash@4.17.21/lodash.min.js"}]}

Writers hold an exclusive lock on ``.manifest.lock`` for the whole read-modify-write and
replace the file atomically (temporary file, fsync, rename), so a reader without the lock
(the daemon at session creation) sees either the old or the new manifest, never a torn one.
Entries that fail validation (bad name, or a ``file`` other than ``<name>-<version>.js``) are
ignored on read, so a hand-edited manifest can never point outside the cache directory.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from vmsystem.libraries.errors import LibraryError
from vmsystem.libraries.names import safe_file_name, validate_global

__all__ = [
    "MANIFEST_FORMAT",
    "ManifestEntry",
    "atomic_write",
    "manifest_lock",
    "parse_manifest",
    "read_manifest",
    "write_manifest",
]

MANIFEST_FORMAT = 1
_SHA256 = re.compile(r"[0-9a-f]{64}")
_log = logging.getLogger(__name__)

Source = Literal["npm", "local"]


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One cached library file.

    ``file`` is the file name inside the cache directory (always ``<name>-<version>.js``),
    ``source`` is ``"npm"`` (downloaded) or ``"local"`` (``libs add``), ``origin`` says where
    the bytes came from (informational).
    """

    name: str
    version: str
    file: str
    sha256: str
    size: int
    global_name: str
    source: Source
    origin: str = ""

    @property
    def spec(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    def to_json(self) -> dict[str, Any]:
        """The manifest JSON object of this entry."""
        return {
            "name": self.name,
            "version": self.version,
            "file": self.file,
            "sha256": self.sha256,
            "size": self.size,
            "global": self.global_name,
            "source": self.source,
            "origin": self.origin,
        }

    @classmethod
    def from_json(cls, data: object) -> ManifestEntry:
        """Validate and build an entry; raises :class:`ValueError` (or a subclass) if invalid."""
        if not isinstance(data, dict):
            raise ValueError("manifest entry is not an object")
        name, version = data.get("name"), data.get("version")
        if not isinstance(name, str) or not isinstance(version, str):
            raise ValueError("manifest entry lacks name or version")
        expected_file = safe_file_name(name, version)
        if data.get("file") != expected_file:
            raise ValueError(f"manifest entry {name}@{version} has file other than {expected_file}")
        sha, size, source = data.get("sha256"), data.get("size"), data.get("source")
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            raise ValueError(f"manifest entry {name}@{version} has an invalid sha256")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(f"manifest entry {name}@{version} has an invalid size")
        if source not in ("npm", "local"):
            raise ValueError(f"manifest entry {name}@{version} has an invalid source")
        global_name = data.get("global")
        if not isinstance(global_name, str):
            raise ValueError(f"manifest entry {name}@{version} lacks a global")
        validate_global(global_name)
        origin = data.get("origin", "")
        return cls(
            name=name,
            version=version,
            file=expected_file,
            sha256=sha,
            size=size,
            global_name=global_name,
            source=source,
            origin=origin if isinstance(origin, str) else "",
        )


def parse_manifest(text: str | bytes, where: str = "manifest") -> tuple[ManifestEntry, ...]:
    """Parse manifest JSON; invalid entries are skipped (and logged), duplicates keep the last.

    Raises :class:`LibraryError` when the document itself is not a manifest.
    """
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise LibraryError(
            f"{where} is not valid JSON ({exc}); delete it and run `vm-system libs download`"
        ) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("libraries"), list):
        raise LibraryError(f"{where} is not a vm-system library manifest")
    entries: dict[tuple[str, str], ManifestEntry] = {}
    for raw in doc["libraries"]:
        try:
            entry = ManifestEntry.from_json(raw)
        except ValueError as exc:
            _log.warning("ignoring invalid entry in %s: %s", where, exc)
            continue
        entries.pop((entry.name, entry.version), None)
        entries[(entry.name, entry.version)] = entry
    return tuple(entries.values())


def read_manifest(path: Path) -> tuple[ManifestEntry, ...]:
    """Read a manifest file; a missing file is an empty manifest."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return ()
    return parse_manifest(data, str(path))


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory and a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_manifest(path: Path, entries: Sequence[ManifestEntry]) -> None:
    """Atomically replace the manifest at ``path`` with ``entries`` (caller holds the lock)."""
    doc = {"format": MANIFEST_FORMAT, "libraries": [e.to_json() for e in entries]}
    atomic_write(path, (json.dumps(doc, indent=2) + "\n").encode())


_thread_lock = threading.Lock()

if sys.platform == "win32":  # pragma: no cover - exercised only on Windows
    import msvcrt

    def _lock_fd(fd: int) -> None:
        while True:
            try:
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                return
            except OSError:
                continue

    def _unlock_fd(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)

    def _unlock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


@contextlib.contextmanager
def manifest_lock(directory: Path) -> Iterator[None]:
    """Hold the cache's write lock (between threads and between processes)."""
    with _thread_lock:
        fd = os.open(directory / ".manifest.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _lock_fd(fd)
            try:
                yield
            finally:
                _unlock_fd(fd)
        finally:
            os.close(fd)
