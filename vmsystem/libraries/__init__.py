"""JavaScript libraries for sessions: the npm catalog, the local cache and name resolution.

Standard library only; no imports from the rest of vm-system. Typical use::

    cache = LibraryCache()                      # $VMSYSTEM_CACHE_DIR or ~/.cache/...
    cache.download(["lodash"], progress=print)  # npm pack, verify, store, manifest
    cache.check_known("lodash-4.17.21")         # at template add time (UnknownLibrary)
    lib = cache.load("lodash")                  # at session creation (LibraryNotCachedError)
    runtime.eval(lib.source)                    # defines lib.entry.global_name

Error mapping for the API: :class:`LibraryNameError` and :class:`UnknownLibrary` are
LIBRARY_NOT_FOUND (422); :class:`LibraryNotCachedError` (and :class:`IntegrityError`, a
cache that needs repair) are LIBRARY_NOT_CACHED (424).
"""

from __future__ import annotations

from vmsystem.libraries.cache import (
    CACHE_DIR_ENV,
    LibraryCache,
    LoadedLibrary,
    ProgressCallback,
    check_known,
    default_cache_dir,
    is_known,
)
from vmsystem.libraries.catalog import CATALOG, CatalogEntry, catalog_entry, catalog_names
from vmsystem.libraries.errors import (
    DownloadError,
    IntegrityError,
    LibraryError,
    LibraryNameError,
    LibraryNotCachedError,
    NpmNotFoundError,
    UnknownLibrary,
)
from vmsystem.libraries.info import CacheInfo, CacheInfoEntry, cache_info
from vmsystem.libraries.manifest import ManifestEntry
from vmsystem.libraries.names import (
    LibraryRef,
    parse_spec,
    resolve_name,
    safe_file_name,
    validate_global,
    validate_name,
    validate_version,
)

__all__ = [
    "CACHE_DIR_ENV",
    "CATALOG",
    "CacheInfo",
    "CacheInfoEntry",
    "CatalogEntry",
    "DownloadError",
    "IntegrityError",
    "LibraryCache",
    "LibraryError",
    "LibraryNameError",
    "LibraryNotCachedError",
    "LibraryRef",
    "LoadedLibrary",
    "ManifestEntry",
    "NpmNotFoundError",
    "ProgressCallback",
    "UnknownLibrary",
    "cache_info",
    "catalog_entry",
    "catalog_names",
    "check_known",
    "default_cache_dir",
    "is_known",
    "parse_spec",
    "resolve_name",
    "safe_file_name",
    "validate_global",
    "validate_name",
    "validate_version",
]
