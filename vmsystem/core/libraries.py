"""Libraries for templates: name checks at add time, cached sources at session start."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vmsystem.core.errors import LibraryNotCached, LibraryNotFound
from vmsystem.libraries.cache import LibraryCache
from vmsystem.libraries.catalog import CATALOG
from vmsystem.libraries.errors import LibraryError, LibraryNameError, UnknownLibrary

__all__ = ["LibraryResolver", "LoadedLibrary"]


@dataclass(frozen=True)
class LoadedLibrary:
    """A library's source, ready to run in a session."""

    name: str
    version: str
    filename: str
    source: str
    #: sha256 of the cached file (verified when it was loaded).
    sha256: str = ""
    #: The global the library defines (also what ``import``/``require`` of its name gives).
    global_name: str = ""


class LibraryResolver:
    """Resolves template library names (``lodash``, ``lodash@4.17.21``, ``lodash-4.17.21``)
    through the catalog and the cache manifest (re-read when it changes, so libraries
    downloaded while the daemon runs are usable at once)."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache = LibraryCache(cache_dir)

    def check(self, spec: str) -> str:
        """The trimmed name to store; LIBRARY_NOT_FOUND unless catalogued or added locally."""
        text = (spec or "").strip()
        try:
            self.cache.check_known(text)
        except LibraryError as exc:
            raise LibraryNotFound(str(exc), library=text) from None
        return text

    def not_cached(self, spec: str) -> str | None:
        """Why a session could not load ``spec`` now (not in the cache, with the command that
        fixes it), or ``None`` when it is cached. Cheap: the manifest and the file's presence,
        not its checksum (sessions verify that when they load it)."""
        try:
            entry = self.cache.resolve(spec)
        except LibraryError as exc:
            return str(exc)
        if not self.cache.file_path(entry).is_file():
            return f"library {entry.spec} is in the cache manifest but its file is missing"
        return None

    def load(self, spec: str) -> LoadedLibrary:
        """The verified cached source; LIBRARY_NOT_CACHED (424) names the fixing command."""
        try:
            loaded = self.cache.load(spec)
        except (LibraryNameError, UnknownLibrary) as exc:
            raise LibraryNotFound(str(exc), library=spec) from None
        except LibraryError as exc:
            raise LibraryNotCached(str(exc), library=spec) from None
        entry = loaded.entry
        return LoadedLibrary(
            entry.name, entry.version, entry.file, loaded.source, entry.sha256, entry.global_name
        )

    def catalog(self) -> list[dict[str, Any]]:
        """Catalog entries and locally added libraries, each with its cached status."""
        cached = {(e.name, e.version): e for e in self.cache.list()}
        out: list[dict[str, Any]] = []
        for item in CATALOG:
            entry = cached.pop((item.name, item.version), None)
            out.append(
                {
                    "name": item.name,
                    "version": item.version,
                    "file": item.file,
                    "global": item.global_name,
                    "description": item.description,
                    "source": "npm",
                    "cached": entry is not None,
                }
            )
        for entry in cached.values():
            out.append(
                {
                    "name": entry.name,
                    "version": entry.version,
                    "file": entry.file,
                    "global": entry.global_name,
                    "description": f"local library ({entry.origin})",
                    "source": entry.source,
                    "cached": True,
                }
            )
        return out
