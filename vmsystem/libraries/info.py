"""``vm-system libs cache-info``: what the cache holds and whether each file is intact."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vmsystem.libraries.cache import LibraryCache
from vmsystem.libraries.manifest import ManifestEntry

__all__ = ["CacheInfo", "CacheInfoEntry", "cache_info"]

EntryStatus = Literal["ok", "missing", "corrupt", "unverified"]


@dataclass(frozen=True, slots=True)
class CacheInfoEntry:
    """A manifest entry with the state of its file.

    ``status``: ``ok`` (size and sha256 match), ``missing``, ``corrupt`` (size or sha256
    differ) or ``unverified`` (present, size matches, sha256 not computed).
    """

    entry: ManifestEntry
    status: EntryStatus
    actual_size: int | None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: the manifest fields plus ``status`` and ``actual_size``."""
        return {**self.entry.to_json(), "status": self.status, "actual_size": self.actual_size}


@dataclass(frozen=True, slots=True)
class CacheInfo:
    """Summary of a cache directory.

    ``untracked`` lists ``.js`` files in the directory that no manifest entry names (they
    are never loaded).
    """

    directory: Path
    manifest: Path
    entries: tuple[CacheInfoEntry, ...]
    untracked: tuple[str, ...]

    @property
    def count(self) -> int:
        """Number of manifest entries."""
        return len(self.entries)

    @property
    def total_size(self) -> int:
        """Bytes taken by the files of the manifest entries that exist."""
        return sum(e.actual_size or 0 for e in self.entries)

    @property
    def healthy(self) -> bool:
        """True when no entry is missing or corrupt."""
        return all(e.status in ("ok", "unverified") for e in self.entries)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready summary."""
        return {
            "directory": str(self.directory),
            "manifest": str(self.manifest),
            "count": self.count,
            "total_size": self.total_size,
            "healthy": self.healthy,
            "entries": [e.as_dict() for e in self.entries],
            "untracked": list(self.untracked),
        }


def _inspect(cache: LibraryCache, entry: ManifestEntry, verify: bool) -> CacheInfoEntry:
    path = cache.file_path(entry)
    try:
        size = path.stat().st_size
    except OSError:
        return CacheInfoEntry(entry, "missing", None)
    if size != entry.size:
        return CacheInfoEntry(entry, "corrupt", size)
    if not verify:
        return CacheInfoEntry(entry, "unverified", size)
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return CacheInfoEntry(entry, "missing", None)
    return CacheInfoEntry(entry, "ok" if digest == entry.sha256 else "corrupt", size)


def cache_info(cache: LibraryCache, *, verify: bool = True) -> CacheInfo:
    """Inspect every manifest entry of ``cache`` (hashing each file when ``verify``)."""
    entries = tuple(_inspect(cache, e, verify) for e in cache.list())
    tracked = {e.file for e in cache.list()}
    try:
        present = sorted(p.name for p in cache.path.glob("*.js") if p.is_file())
    except OSError:
        present = []
    untracked = tuple(name for name in present if name not in tracked)
    return CacheInfo(cache.path, cache.manifest_path, entries, untracked)
