"""Libraries for templates: name checks at add time, cached sources at session start."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vmsystem import libraries as lib
from vmsystem.core.errors import LibraryNotCached, LibraryNotFound

__all__ = ["LibraryResolver", "LoadedLibrary"]


@dataclass(frozen=True)
class LoadedLibrary:
    """A library's source, ready to run in a session."""

    name: str
    version: str
    filename: str
    source: str


class LibraryResolver:
    """Resolves template library names (``lodash``, ``lodash@4.17.21``, ``lodash-4.17.21``)
    through the catalog and the cache manifest (re-read when it changes, so libraries
    downloaded while the daemon runs are usable at once)."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache = lib.LibraryCache(cache_dir)

    def _parse(self, spec: str) -> tuple[str, str | None]:
        try:
            return lib.resolve_name(spec)
        except lib.LibraryNameError as exc:
            raise LibraryNotFound(str(exc), library=spec) from None

    def check(self, spec: str) -> str:
        """The trimmed name to store; LIBRARY_NOT_FOUND unless catalogued or added locally."""
        text = (spec or "").strip()
        name, version = self._parse(text)
        if not self.cache.is_known(name, version):
            raise LibraryNotFound(
                f"Library {text!r} is not in the catalog; see `vm-system libs list`, or add a "
                "local file with `vm-system libs add`",
                library=text,
            )
        return text

    def load(self, spec: str) -> LoadedLibrary:
        """The cached source; LIBRARY_NOT_CACHED (424) naming the command that fixes it."""
        name, version = self._parse(spec)
        try:
            entry = self.cache.require(name, version)
            source = self.cache.read(entry)
        except lib.UnknownLibrary as exc:
            raise LibraryNotFound(str(exc), library=spec) from None
        except lib.LibraryError as exc:
            raise LibraryNotCached(str(exc), library=spec) from None
        return LoadedLibrary(entry.name, entry.version, f"{entry.name}-{entry.version}.js", source)

    def catalog(self) -> list[dict[str, Any]]:
        """Catalog entries and local libraries with their cached status."""
        return self.cache.describe()
