"""File operations on a session's worktree, every kind: :func:`perform`.

Above both :mod:`vmsystem.modules.worktree` (paths, reads, writes, listings) and
:mod:`vmsystem.modules.archives` (pack and unpack, built on the former), so neither imports
the other back.
"""

from __future__ import annotations

from pathlib import Path

from vmsystem.modules import archives
from vmsystem.modules.worktree import FileReply, FileRequest, perform_plain, worktree_root

__all__ = ["perform"]


def perform(worktree: str | Path, request: FileRequest) -> FileReply:
    """Run ``request`` on ``worktree``; WorktreeError when it is refused or fails."""
    root = worktree_root(worktree)
    if request.op == "pack":
        return archives.pack(root, request.path, request.format, request.max_bytes)
    if request.op == "unpack":
        return archives.unpack(root, request.path, request.data, request.max_bytes)
    return perform_plain(root, request)
