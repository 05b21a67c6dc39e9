"""FileService: a session's worktree files, read and written through the host that holds it.

Every operation goes to the session's live runtime (:meth:`SessionRuntime.files`), so the
host's own machine serves it: the daemon for the in-process backend, the host process, or the
Ray actor on its node. A session that is not live (starting, closed, crashed) has no host to
serve its files: the operation is ``SESSION_NOT_READY``. Refusals come back from the host as
the core's typed errors (``INVALID_PATH``, ``FILE_NOT_FOUND``, ``PAYLOAD_TOO_LARGE``,
``INVALID_ARCHIVE``, ``RANGE_NOT_SATISFIABLE``).
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

from vmsystem.core import errors as e
from vmsystem.core.ids import normalize_id
from vmsystem.core.registry import RuntimeRegistry
from vmsystem.hosts import SessionRuntime
from vmsystem.modules import archives
from vmsystem.modules.worktree import FileReply, FileRequest, WorktreeError
from vmsystem.runtime import EngineError
from vmsystem.store import Store

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "FileContent",
    "FileEntry",
    "FileService",
    "default_worktrees_dir",
    "read_source",
    "seed_archive",
    "worktree_call",
]

#: The largest file or archive accepted or served in one request (``--max-file-bytes``).
DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024


def default_worktrees_dir() -> Path:
    """Where managed worktrees go by default: ``worktrees`` in the user's data directory."""
    return Path(platformdirs.user_data_dir("vm-system")) / "worktrees"


_ERRORS: dict[str, Callable[..., e.VmError]] = {
    "INVALID_PATH": e.InvalidPath,
    "FILE_NOT_FOUND": e.FileNotFound,
    "PAYLOAD_TOO_LARGE": e.PayloadTooLarge,
    "INVALID_ARCHIVE": e.InvalidArchive,
    "RANGE_NOT_SATISFIABLE": e.RangeNotSatisfiable,
    "VALIDATION_ERROR": e.ValidationError,
}


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One entry of a listing: ``type`` is ``file``, ``directory``, ``symlink`` or ``other``."""

    path: str
    type: str
    size: int
    mtime: float


@dataclass(frozen=True, slots=True)
class FileContent:
    """Bytes read from a file: ``data`` is bytes ``start``..``end`` (inclusive) of ``size``."""

    path: str
    data: bytes
    size: int
    start: int
    end: int
    mtime: float


def worktree_call(runtime: SessionRuntime, request: FileRequest, session_id: str) -> FileReply:
    """Run ``request`` on the runtime's host, its refusals as the core's typed errors."""
    try:
        return runtime.files(request)
    except WorktreeError as exc:
        factory = _ERRORS.get(exc.code, e.InvalidPath)
        raise factory(exc.message, session_id=session_id, **exc.details) from None
    except EngineError as exc:
        raise e.SessionNotReady(
            f"the session's host cannot serve its files: {exc}", session_id=session_id
        ) from None


def seed_archive(seed: str, limit: int) -> bytes:
    """The template seed as archive bytes (read on the daemon's machine): an archive file as
    it is, a directory packed; ``STARTUP_FAILED`` when it is gone or too large."""
    path = Path(seed)
    try:
        if path.is_dir():
            return archives.pack(Path(os.path.realpath(path)), "", "tar", limit).data
        if path.stat().st_size > limit:
            raise e.StartupFailed(
                f"the worktree seed {seed} is larger than {limit} bytes", seed=seed
            )
        return path.read_bytes()
    except WorktreeError as exc:
        raise e.StartupFailed(f"the worktree seed {seed}: {exc.message}", seed=seed) from None
    except OSError as exc:
        raise e.StartupFailed(
            f"the worktree seed {seed} cannot be read: {exc.strerror or exc}", seed=seed
        ) from None


def read_source(runtime: SessionRuntime, path: str, session_id: str) -> tuple[str, str]:
    """``(relative path, text)`` of a worktree file to run, read by the session's host:
    FILE_NOT_FOUND, or INVALID_PATH for a path out of the worktree, a directory or non-UTF-8."""
    content = worktree_call(runtime, FileRequest("read", path=path), session_id)
    try:
        return content.path, content.data.decode("utf-8")
    except UnicodeDecodeError:
        raise e.InvalidPath(
            f"File is not UTF-8 text: {content.path}", path=content.path, session_id=session_id
        ) from None


class FileService:
    """Read, write, list and delete a live session's worktree files (see the module
    docstring); archives carry whole trees in one request."""

    def __init__(
        self, store: Store, registry: RuntimeRegistry, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    ) -> None:
        self._store = store
        self._registry = registry
        #: The largest file or archive one request carries.
        self.max_file_bytes = max_file_bytes

    def _call(self, session_id: str, request: FileRequest) -> FileReply:
        sid = normalize_id(session_id, "session_id")
        live = self._registry.get(sid)
        if live is None:
            row = self._store.get_session(sid)
            if row is None:
                raise e.SessionNotFound(session_id=sid)
            raise e.SessionNotReady(
                f"Session is {row.status.value}: its files are served by its host while it is "
                "ready",
                session_id=sid,
                status=row.status.value,
            )
        live.touch()
        return worktree_call(live.runtime, request, sid)

    def _check_size(self, data: bytes) -> None:
        if len(data) > self.max_file_bytes:
            raise e.PayloadTooLarge(
                f"the body is larger than {self.max_file_bytes} bytes (--max-file-bytes)",
                limit=self.max_file_bytes,
            )

    def write(self, session_id: str, path: str, data: bytes) -> FileEntry:
        """Write ``data`` to ``path`` (parents created; the old file replaced atomically)."""
        self._check_size(data)
        reply = self._call(session_id, FileRequest("write", path=path, data=data))
        return FileEntry(reply.path, "file", reply.size, reply.mtime)

    def read(
        self,
        session_id: str,
        path: str,
        *,
        start: int | None = None,
        end: int | None = None,
        suffix: int | None = None,
    ) -> FileContent:
        """A file's bytes, or a byte range of them (``start``..``end`` inclusive, or the last
        ``suffix`` bytes); more than ``max_file_bytes`` at once is PAYLOAD_TOO_LARGE."""
        reply = self._call(
            session_id,
            FileRequest(
                "read",
                path=path,
                start=start,
                end=end,
                suffix=suffix,
                max_bytes=self.max_file_bytes,
            ),
        )
        return FileContent(reply.path, reply.data, reply.size, reply.start, reply.end, reply.mtime)

    def delete(self, session_id: str, path: str) -> str:
        """Delete a file, a symlink (not its target) or a directory with its contents."""
        return self._call(session_id, FileRequest("delete", path=path)).path

    def list(
        self, session_id: str, path: str = "", *, recursive: bool = False
    ) -> tuple[list[FileEntry], bool]:
        """The entries under directory ``path`` (``""``: the worktree) and whether the listing
        was truncated (at :data:`~vmsystem.modules.worktree.MAX_LISTED` entries)."""
        reply = self._call(session_id, FileRequest("list", path=path, recursive=recursive))
        return [_entry(item) for item in reply.entries], reply.truncated

    def upload_archive(
        self, session_id: str, data: bytes, path: str = ""
    ) -> builtins.list[FileEntry]:
        """Unpack a tar (plain or compressed) or zip archive into directory ``path``; refused
        as a whole (INVALID_ARCHIVE) if any member is; the files written."""
        self._check_size(data)
        reply = self._call(
            session_id,
            FileRequest("unpack", path=path, data=data, max_bytes=self.max_file_bytes),
        )
        return [_entry(item) for item in reply.entries]

    def download_archive(self, session_id: str, path: str = "", fmt: str = "tar") -> bytes:
        """Directory ``path`` (``""``: the worktree) as a gzip-compressed tar or a zip."""
        if fmt not in archives.ARCHIVE_FORMATS:
            raise e.ValidationError(
                f"format must be one of {', '.join(archives.ARCHIVE_FORMATS)}", format=fmt
            )
        reply = self._call(
            session_id, FileRequest("pack", path=path, format=fmt, max_bytes=self.max_file_bytes)
        )
        return reply.data


def _entry(item: dict[str, Any]) -> FileEntry:
    return FileEntry(str(item["path"]), str(item["type"]), int(item["size"]), float(item["mtime"]))
