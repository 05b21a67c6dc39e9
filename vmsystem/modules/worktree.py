"""Confined file operations on a session's worktree (what the files API runs on a host).

Everything here runs where the worktree lives: in the daemon for the in-process backend, in the
host process or the Ray actor that holds the session otherwise. A request and its reply are
plain data (:class:`FileRequest`, :class:`FileReply`: JSON-able with the bytes in base64), so
they cross a process or machine boundary like a :class:`~vmsystem.hosts.base.RuntimeSpec`.

Confinement follows run-file: a path is relative, never absolute, never ``..`` after
normalisation, and with every symlink resolved it must stay inside the worktree (a symlink
pointing out is refused). A failure is a :class:`WorktreeError` with the code of the core's
typed error it becomes (``INVALID_PATH``, ``FILE_NOT_FOUND``, ``PAYLOAD_TOO_LARGE``,
``RANGE_NOT_SATISFIABLE``).
"""

from __future__ import annotations

import base64
import contextlib
import os
import posixpath
import shutil
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "MAX_LISTED",
    "FileReply",
    "FileRequest",
    "WorktreeError",
    "clean_path",
    "confine_path",
    "create_worktree",
    "perform_plain",
    "remove_worktree",
    "worktree_root",
    "write_file",
]

#: The most entries one listing returns (``truncated`` says when there were more).
MAX_LISTED = 10_000


class WorktreeError(Exception):
    """A refused or failed file operation, with the code of the core error it maps to."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (what a host sends back)."""
        return {"code": self.code, "message": self.message, "details": self.details}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WorktreeError:
        """The inverse of :meth:`to_dict`."""
        return cls(str(data["code"]), str(data["message"]), **dict(data.get("details") or {}))


def _invalid(message: str, path: str) -> WorktreeError:
    return WorktreeError("INVALID_PATH", message, path=path)


def clean_path(path: str | None) -> str:
    """A normalised worktree-relative path; empty, NUL, absolute and ``..`` paths are
    INVALID_PATH."""
    text = (path or "").strip()
    if "\x00" in text:
        raise _invalid("Path contains a NUL byte", text)
    if not text or posixpath.normpath(text) == ".":
        raise _invalid("Path is empty", text)
    if text.startswith("/") or os.path.isabs(text):
        raise _invalid("Path must be relative to the worktree", text)
    cleaned = posixpath.normpath(text)
    if cleaned == ".." or cleaned.startswith("../"):
        raise _invalid("Path leaves the worktree", text)
    return cleaned


def confine_path(root: Path, path: str, *, follow: bool = True) -> tuple[str, Path]:
    """``(relative, absolute)`` of ``path`` inside the real directory ``root``.

    With ``follow`` every symlink is resolved (the target need not exist); without it only the
    parent's are, so the last component may itself be a link (a delete removes the link). A
    path that leads outside ``root`` is INVALID_PATH.
    """
    rel = clean_path(path)
    if follow:
        target = Path(os.path.realpath(root / rel))
    else:
        parent, name = posixpath.split(rel)
        target = Path(os.path.realpath(root / parent)) / name
    if target != root and root not in target.parents:
        raise _invalid("Path leaves the worktree", path)
    return rel, target


@dataclass(frozen=True)
class FileRequest:
    """One file operation on a worktree (plain data).

    ``op``: ``write`` (``path``, ``data``), ``read`` (``path``, a byte range ``start`` /
    ``end`` inclusive, ``suffix`` for the last bytes, ``max_bytes``), ``delete`` (``path``: a
    file, link or whole directory), ``list`` (``path`` or ``""`` for the root, ``recursive``),
    ``pack`` (``path`` or ``""``, ``format`` ``tar`` or ``zip``, ``max_bytes``), ``unpack``
    (``path`` or ``""`` as the destination, ``data``, ``max_bytes`` unpacked).
    """

    op: str
    path: str = ""
    data: bytes = b""
    start: int | None = None
    end: int | None = None
    suffix: int | None = None
    recursive: bool = False
    format: str = "tar"
    max_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``data`` in base64)."""
        return {
            "op": self.op,
            "path": self.path,
            "data": base64.b64encode(self.data).decode("ascii"),
            "start": self.start,
            "end": self.end,
            "suffix": self.suffix,
            "recursive": self.recursive,
            "format": self.format,
            "max_bytes": self.max_bytes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FileRequest:
        """The inverse of :meth:`to_dict`."""
        return cls(
            op=str(data["op"]),
            path=str(data.get("path") or ""),
            data=base64.b64decode(data.get("data") or ""),
            start=_opt_int(data.get("start")),
            end=_opt_int(data.get("end")),
            suffix=_opt_int(data.get("suffix")),
            recursive=bool(data.get("recursive")),
            format=str(data.get("format") or "tar"),
            max_bytes=int(data.get("max_bytes") or 0),
        )


@dataclass(frozen=True)
class FileReply:
    """What a file operation gives back: ``data`` (a read's bytes or an archive), ``size``
    (the whole file's size, or the bytes written), the byte range served, ``mtime``,
    ``entries`` (a listing, or the files an archive wrote) and ``truncated``."""

    path: str = ""
    data: bytes = b""
    size: int = 0
    start: int = 0
    end: int = 0
    mtime: float = 0.0
    entries: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``data`` in base64)."""
        return {
            "path": self.path,
            "data": base64.b64encode(self.data).decode("ascii"),
            "size": self.size,
            "start": self.start,
            "end": self.end,
            "mtime": self.mtime,
            "entries": self.entries,
            "truncated": self.truncated,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FileReply:
        """The inverse of :meth:`to_dict`."""
        return cls(
            path=str(data.get("path") or ""),
            data=base64.b64decode(data.get("data") or ""),
            size=int(data.get("size") or 0),
            start=int(data.get("start") or 0),
            end=int(data.get("end") or 0),
            mtime=float(data.get("mtime") or 0.0),
            entries=list(data.get("entries") or []),
            truncated=bool(data.get("truncated")),
        )


def worktree_root(worktree: str | Path) -> Path:
    """The real directory of ``worktree``; FILE_NOT_FOUND (WorktreeError) if it is missing."""
    root = Path(os.path.realpath(worktree))
    if not root.is_dir():
        raise WorktreeError(
            "FILE_NOT_FOUND", "The session's worktree does not exist on its host", path=""
        )
    return root


def perform_plain(root: Path, request: FileRequest) -> FileReply:
    """Run a ``write``, ``read``, ``delete`` or ``list`` request on the real directory
    ``root`` (archives are :func:`vmsystem.modules.fileops.perform`'s); WorktreeError when it
    is refused or fails."""
    if request.op == "write":
        return write_file(root, request.path, request.data)
    if request.op == "read":
        return _read(root, request)
    if request.op == "delete":
        return _delete(root, request.path)
    if request.op == "list":
        return _list(root, request.path, recursive=request.recursive)
    raise WorktreeError("INVALID_REQUEST", f"unknown file operation {request.op!r}")


def write_file(root: Path, path: str, data: bytes) -> FileReply:
    """Write ``data`` to ``path`` (parents created) through a temporary file renamed over the
    target, so a reader never sees half a file."""
    rel, target = confine_path(root, path)
    if target == root or target.is_dir():
        raise _invalid(f"Path is a directory: {rel}", rel)
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise _invalid(f"A parent of the path is not a directory: {rel}", rel) from None
    # The session's code may swap a directory for a link meanwhile: check the parent again.
    if Path(os.path.realpath(parent)) != parent:
        raise _invalid("Path leaves the worktree", rel)
    fd, temp = tempfile.mkstemp(prefix=".vmsystem-", suffix=".part", dir=parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    info = target.stat()
    return FileReply(path=rel, size=len(data), mtime=info.st_mtime)


def _read(root: Path, request: FileRequest) -> FileReply:
    rel, target = confine_path(root, request.path)
    try:
        info = target.stat()
    except FileNotFoundError:
        raise WorktreeError("FILE_NOT_FOUND", f"File not found: {rel}", path=rel) from None
    except NotADirectoryError:
        raise WorktreeError("FILE_NOT_FOUND", f"File not found: {rel}", path=rel) from None
    if not stat.S_ISREG(info.st_mode):
        raise _invalid(f"Path is not a regular file: {rel}", rel)
    size = info.st_size
    start, end = _byte_range(request, size, rel)
    length = end - start + 1 if size else 0
    if request.max_bytes and length > request.max_bytes:
        raise WorktreeError(
            "PAYLOAD_TOO_LARGE",
            f"{rel} is {length} bytes, more than {request.max_bytes} in one read (ask for a Range)",
            path=rel,
            size=size,
            limit=request.max_bytes,
        )
    with open(target, "rb") as handle:
        handle.seek(start)
        data = handle.read(length)
    # The file that was read: through a symlink inside the worktree, its target (a run-file
    # records and resolves imports from the real path).
    real = target.relative_to(root).as_posix()
    return FileReply(
        path=real, data=data, size=size, start=start, end=start + len(data) - 1, mtime=info.st_mtime
    )


def _byte_range(request: FileRequest, size: int, rel: str) -> tuple[int, int]:
    """The inclusive byte range asked for, clipped to the file; RANGE_NOT_SATISFIABLE when it
    starts past the end."""
    if request.suffix is not None:
        if request.suffix <= 0 or size == 0:
            raise _unsatisfiable(rel, size)
        return max(size - request.suffix, 0), size - 1
    if request.start is None:
        return 0, max(size - 1, 0)
    if request.start >= size:
        raise _unsatisfiable(rel, size)
    end = size - 1 if request.end is None else min(request.end, size - 1)
    return request.start, end


def _unsatisfiable(rel: str, size: int) -> WorktreeError:
    return WorktreeError(
        "RANGE_NOT_SATISFIABLE", f"The range is outside {rel} ({size} bytes)", path=rel, size=size
    )


def _delete(root: Path, path: str) -> FileReply:
    rel, target = confine_path(root, path, follow=False)
    try:
        info = target.lstat()
    except (FileNotFoundError, NotADirectoryError):
        raise WorktreeError("FILE_NOT_FOUND", f"File not found: {rel}", path=rel) from None
    if stat.S_ISDIR(info.st_mode):
        shutil.rmtree(target)
    else:
        target.unlink()
    return FileReply(path=rel)


def _entry(root: Path, path: Path) -> dict[str, Any]:
    info = path.lstat()
    mode = info.st_mode
    kind = (
        "directory"
        if stat.S_ISDIR(mode)
        else "file"
        if stat.S_ISREG(mode)
        else "symlink"
        if stat.S_ISLNK(mode)
        else "other"
    )
    return {
        "path": path.relative_to(root).as_posix(),
        "type": kind,
        "size": info.st_size if kind == "file" else 0,
        "mtime": info.st_mtime,
    }


def _list(root: Path, path: str, *, recursive: bool) -> FileReply:
    """Entries under ``path`` (files, directories, symlinks: links are listed, not followed),
    sorted by path; at most :data:`MAX_LISTED`."""
    if path.strip() in ("", ".", "/"):
        rel, target = ".", root
    else:
        rel, target = confine_path(root, path)
    if not target.exists():
        raise WorktreeError("FILE_NOT_FOUND", f"Directory not found: {rel}", path=rel)
    if not target.is_dir():
        raise _invalid(f"Path is not a directory: {rel}", rel)
    entries: list[dict[str, Any]] = []
    truncated = False
    pending = [target]
    while pending and not truncated:
        directory = pending.pop()
        try:
            children = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for child in children:
            if len(entries) >= MAX_LISTED:
                truncated = True
                break
            with contextlib.suppress(OSError):
                entries.append(_entry(root, Path(child.path)))
                if recursive and child.is_dir(follow_symlinks=False):
                    pending.append(Path(child.path))
    entries.sort(key=lambda e: e["path"])
    return FileReply(path=rel, entries=entries, truncated=truncated)


def create_worktree(path: str | Path) -> Path:
    """Create a managed worktree directory (and its parents) if it is missing."""
    target = Path(path)
    target.mkdir(parents=True, exist_ok=True, mode=0o755)
    return target


def remove_worktree(path: str | Path) -> bool:
    """Delete a managed worktree and everything in it (links are removed, not followed);
    False if it was not there."""
    target = Path(path)
    if not target.is_dir() or target.is_symlink():
        return False
    shutil.rmtree(target)
    return True


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)
