"""Path rules for worktrees, run-file and startup files (everything stays inside the worktree)."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from vmsystem.core.errors import FileNotFound, InvalidPath, ValidationError

__all__ = ["check_worktree", "clean_relative_path", "read_worktree_file", "resolve_in_worktree"]


def check_worktree(path: str | None) -> Path:
    """The canonical worktree directory; 400 VALIDATION_ERROR unless absolute and a directory."""
    text = (path or "").strip()
    if not text:
        raise ValidationError("worktree_path is required")
    if not os.path.isabs(text):
        raise ValidationError("worktree_path must be an absolute path", worktree_path=text)
    if not os.path.isdir(text):
        raise ValidationError("worktree_path must be an existing directory", worktree_path=text)
    return Path(os.path.realpath(text))


def clean_relative_path(path: str | None, **details: str) -> str:
    """Normalise a worktree-relative path; absolute, empty and ``..`` paths are INVALID_PATH."""
    text = (path or "").strip()
    if "\x00" in text:
        raise InvalidPath("Path contains a NUL byte", path=text, **details)
    if not text or posixpath.normpath(text) == ".":
        raise InvalidPath("Path is empty", path=text, **details)
    if os.path.isabs(text):
        raise InvalidPath("Path must be relative to the worktree", path=text, **details)
    cleaned = posixpath.normpath(text)
    if cleaned == ".." or cleaned.startswith("../"):
        raise InvalidPath(path=text, **details)
    return cleaned


def resolve_in_worktree(worktree: str | Path, path: str, **details: str) -> tuple[str, Path]:
    """``(relative, absolute)`` of ``path`` inside ``worktree`` with symlinks resolved.

    Raises INVALID_PATH when the path (or a symlink on it) leads outside the worktree.
    The target need not exist.
    """
    rel = clean_relative_path(path, **details)
    root = Path(os.path.realpath(worktree))
    target = Path(os.path.realpath(root / rel))
    try:
        inside = target.relative_to(root)
    except ValueError:
        raise InvalidPath(path=path, **details) from None
    return inside.as_posix() or ".", target


def read_worktree_file(worktree: str | Path, path: str, **details: str) -> tuple[str, str]:
    """``(relative path, text)`` of a file to run; FILE_NOT_FOUND / INVALID_PATH otherwise."""
    rel, target = resolve_in_worktree(worktree, path, **details)
    if not target.exists():
        raise FileNotFound(f"File not found: {rel}", path=rel, **details)
    if not target.is_file():
        raise InvalidPath(f"Path is not a regular file: {rel}", path=rel, **details)
    try:
        return rel, target.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidPath(f"File is not UTF-8 text: {rel}", path=rel, **details) from None
