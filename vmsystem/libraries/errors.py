"""Typed errors of the library subsystem.

The core maps them to API error codes::

    LibraryError
    ├── LibraryNameError (also ValueError)   -> 422 LIBRARY_NOT_FOUND
    ├── UnknownLibrary                        -> 422 LIBRARY_NOT_FOUND
    ├── LibraryNotCachedError                 -> 424 LIBRARY_NOT_CACHED
    ├── IntegrityError                        -> 424 LIBRARY_NOT_CACHED (the cache needs repair)
    └── DownloadError
        ├── DownloadCancelled
        └── NpmNotFoundError

Every error carries a one-line ``message``; errors a user can fix also carry ``hint``, the
command that fixes them (already part of ``message``).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DownloadCancelled",
    "DownloadError",
    "IntegrityError",
    "LibraryError",
    "LibraryNameError",
    "LibraryNotCachedError",
    "NpmNotFoundError",
    "UnknownLibrary",
]


class LibraryError(Exception):
    """Base class of every error raised by :mod:`vmsystem.libraries`."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class LibraryNameError(LibraryError, ValueError):
    """A library name, version, spec or global name is malformed or unsafe."""


class UnknownLibrary(LibraryError):
    """The library (or that version of it) is neither in the catalog nor in the cache."""

    def __init__(self, name: str, version: str | None, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.version = version


class LibraryNotCachedError(LibraryError):
    """The library is known but its file is not in the local cache.

    ``hint`` is the command that fixes it, e.g. ``vm-system libs download lodash``.
    """

    def __init__(self, name: str, version: str, hint: str) -> None:
        super().__init__(f"library {name}@{version} is not cached: run `{hint}`", hint=hint)
        self.name = name
        self.version = version


class IntegrityError(LibraryError):
    """A file's sha256 or size differs from what the manifest or the catalog pins."""


class DownloadError(LibraryError):
    """``npm pack`` failed, or the package tarball does not hold the expected file.

    When raised by :meth:`LibraryCache.download` after several libraries were processed,
    ``failures`` maps each failed ``name@version`` to its reason and ``completed`` holds the
    entries that were cached successfully.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.failures: dict[str, str] = {}
        #: The ``ManifestEntry`` objects cached before the failure (typed loosely: the errors
        #: sit below the manifest, which raises them).
        self.completed: list[Any] = []


class NpmNotFoundError(DownloadError):
    """The ``npm`` executable is not available."""


class DownloadCancelled(DownloadError):
    """The download was cancelled while ``npm pack`` ran (npm's process group was killed)."""
