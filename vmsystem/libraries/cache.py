"""The local library cache: files named ``<name>-<version>.js`` plus ``manifest.json``.

The daemon resolves a template's library specs through :meth:`LibraryCache.load` at every
session creation. The manifest is re-read only when its inode, mtime or size changed (one
``open`` + ``fstat``), so a library downloaded or added while the daemon runs is usable at
once without paying a parse per session.
"""

from __future__ import annotations

import builtins
import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from vmsystem.libraries.catalog import CATALOG, CatalogEntry, catalog_entry, catalog_names
from vmsystem.libraries.errors import (
    DownloadError,
    IntegrityError,
    LibraryError,
    LibraryNameError,
    LibraryNotCachedError,
    UnknownLibrary,
)
from vmsystem.libraries.manifest import (
    ManifestEntry,
    Source,
    atomic_write,
    manifest_lock,
    parse_manifest,
    read_manifest,
    write_manifest,
)
from vmsystem.libraries.names import (
    LibraryRef,
    is_legacy_ambiguous,
    resolve_name,
    safe_file_name,
    validate_global,
    validate_name,
    validate_version,
)
from vmsystem.libraries.npm import MAX_FILE_BYTES, find_npm, npm_pack_file

__all__ = [
    "CACHE_DIR_ENV",
    "LibraryCache",
    "LoadedLibrary",
    "ProgressCallback",
    "check_known",
    "default_cache_dir",
    "is_known",
]

CACHE_DIR_ENV = "VMSYSTEM_CACHE_DIR"
MANIFEST_NAME = "manifest.json"

ProgressCallback = Callable[[str, str], None]
"""``progress(spec, event)``: ``spec`` is ``name@version``; ``event`` is ``"cached"``
(cache hit, nothing fetched), ``"downloading"``, ``"downloaded"`` or ``"failed"``."""


def default_cache_dir() -> Path:
    """``$VMSYSTEM_CACHE_DIR`` if set and non-empty, else ``~/.cache/vm-system/libraries``."""
    configured = os.environ.get(CACHE_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "vm-system" / "libraries"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class LoadedLibrary:
    """A verified library ready to evaluate: its manifest entry and its source text."""

    entry: ManifestEntry
    source: str


class LibraryCache:
    """A library cache directory.

    ``path`` defaults to :func:`default_cache_dir`; it is created on the first write only.
    ``npm`` overrides the npm command (default: ``npm`` on ``PATH``). ``catalog`` is the set
    of downloadable libraries (default :data:`~vmsystem.libraries.catalog.CATALOG`).
    Instances are thread-safe.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        npm: str | None = None,
        npm_timeout: float = 120.0,
        catalog: tuple[CatalogEntry, ...] = CATALOG,
    ) -> None:
        self.path = Path(path) if path is not None else default_cache_dir()
        self.manifest_path = self.path / MANIFEST_NAME
        self.catalog = catalog
        self._npm = npm
        self._npm_timeout = npm_timeout
        self._lock = threading.Lock()
        self._key: tuple[int, int, int] | None = None
        self._entries: tuple[ManifestEntry, ...] = ()

    def __repr__(self) -> str:
        return f"LibraryCache({str(self.path)!r})"

    # ------------------------------------------------------------------ manifest view

    def _snapshot(self) -> tuple[ManifestEntry, ...]:
        """The manifest's entries, re-parsed only when the file changed."""
        with self._lock:
            try:
                handle = open(self.manifest_path, "rb")  # noqa: SIM115 - fstat before read
            except FileNotFoundError:
                self._key, self._entries = None, ()
                return ()
            except OSError as exc:
                raise LibraryError(f"cannot read {self.manifest_path}: {exc}") from exc
            with handle:
                st = os.fstat(handle.fileno())
                key = (st.st_ino, st.st_mtime_ns, st.st_size)
                if key != self._key:
                    self._entries = parse_manifest(handle.read(), str(self.manifest_path))
                    self._key = key
            return self._entries

    def _invalidate(self) -> None:
        with self._lock:
            self._key = None

    def list(self) -> builtins.list[ManifestEntry]:
        """All cached entries, in manifest order (oldest first)."""
        return builtins.list(self._snapshot())

    def get(self, name: str, version: str | None = None) -> ManifestEntry | None:
        """The cached entry for ``name`` (and ``version``), or ``None``.

        Without a version: the catalog's version if it is cached, else the most recently
        added version. Raises :class:`LibraryNameError` for an invalid name or version.
        """
        validate_name(name)
        if version is not None:
            validate_version(version)
        candidates = [e for e in self._snapshot() if e.name == name]
        if version is not None:
            return next((e for e in candidates if e.version == version), None)
        if not candidates:
            return None
        known = catalog_entry(name, self.catalog)
        if known is not None:
            for entry in candidates:
                if entry.version == known.version:
                    return entry
        return candidates[-1]

    # ------------------------------------------------------------------ resolution

    def check_known(self, spec: str) -> LibraryRef:
        """Validate a template's library spec: it must name a catalog or cached library.

        Returns the parsed spec. Raises :class:`LibraryNameError` (malformed) or
        :class:`UnknownLibrary`. A known library need not be cached yet.
        """
        name, version = resolve_name(spec)
        if self.get(name, version) is not None:
            return LibraryRef(name, version)
        known = catalog_entry(name, self.catalog)
        if known is not None and version in (None, known.version):
            return LibraryRef(name, version)
        raise self._unknown(name, version, known)

    def is_known(self, spec: str) -> bool:
        """True when :meth:`check_known` accepts ``spec`` (False for malformed specs too)."""
        try:
            self.check_known(spec)
        except LibraryError:
            return False
        return True

    def _unknown(
        self, name: str, version: str | None, known: CatalogEntry | None
    ) -> UnknownLibrary:
        if known is not None:
            return UnknownLibrary(
                name,
                version,
                f"library {name}@{version} is not available: the catalog has {known.spec}",
            )
        shown = name if version is None else f"{name}@{version}"
        return UnknownLibrary(
            name,
            version,
            f"unknown library {shown}: not in the catalog"
            f" ({', '.join(catalog_names(self.catalog))})"
            f" and not added with `vm-system libs add FILE --name {name} --version V --global G`",
        )

    def resolve(self, spec: str) -> ManifestEntry:
        """The cached entry a template's library spec names.

        Raises :class:`LibraryNameError`, :class:`UnknownLibrary`, or
        :class:`LibraryNotCachedError` (a catalog library not downloaded yet; its message
        names the command that fixes it).
        """
        name, version = resolve_name(spec)
        entry = self.get(name, version)
        if entry is not None:
            return entry
        known = catalog_entry(name, self.catalog)
        if known is not None and version in (None, known.version):
            raise LibraryNotCachedError(name, known.version, f"vm-system libs download {name}")
        raise self._unknown(name, version, known)

    def _fix_hint(self, entry: ManifestEntry) -> str:
        known = catalog_entry(entry.name, self.catalog)
        if known is not None and known.version == entry.version:
            return f"vm-system libs download {entry.name}"
        return (
            f"vm-system libs add FILE --name {entry.name} --version {entry.version}"
            f" --global {entry.global_name}"
        )

    def file_path(self, entry: ManifestEntry) -> Path:
        """The path of an entry's file (derived from its validated name and version)."""
        return self.path / safe_file_name(entry.name, entry.version)

    def read(self, entry: ManifestEntry) -> str:
        """The verified source text of a cached entry.

        Raises :class:`LibraryNotCachedError` if the file is gone and :class:`IntegrityError`
        if its size or sha256 differs from the manifest or it is not UTF-8.
        """
        path = self.file_path(entry)
        hint = self._fix_hint(entry)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise LibraryNotCachedError(entry.name, entry.version, hint) from None
        except OSError as exc:
            raise LibraryError(f"cannot read {path}: {exc}") from exc
        actual = _sha256(data)
        if len(data) != entry.size or actual != entry.sha256:
            raise IntegrityError(
                f"cached file {path.name} of {entry.spec} is corrupt: sha256 {actual[:16]}..."
                f" ({len(data)} bytes), manifest says {entry.sha256[:16]}... ({entry.size}"
                f" bytes): run `{hint}`",
                hint=hint,
            )
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise IntegrityError(
                f"cached file {path.name} of {entry.spec} is not UTF-8: run `{hint}`", hint=hint
            ) from exc

    def load(self, spec: str) -> LoadedLibrary:
        """Resolve ``spec`` and read its verified text (what the daemon does per library).

        If the file was replaced concurrently (a re-add of the same version), the manifest
        is re-read once before an :class:`IntegrityError` is reported.
        """
        entry = self.resolve(spec)
        try:
            return LoadedLibrary(entry, self.read(entry))
        except IntegrityError:
            self._invalidate()
            fresh = self.resolve(spec)
            if fresh == entry:
                raise
            return LoadedLibrary(fresh, self.read(fresh))

    # ------------------------------------------------------------------ writing

    def _store(
        self, name: str, version: str, data: bytes, global_name: str, source: Source, origin: str
    ) -> ManifestEntry:
        file_name = safe_file_name(name, version)
        entry = ManifestEntry(
            name=name,
            version=version,
            file=file_name,
            sha256=_sha256(data),
            size=len(data),
            global_name=global_name,
            source=source,
            origin=origin,
        )
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            with manifest_lock(self.path):
                entries = builtins.list(read_manifest(self.manifest_path))
                for other in entries:
                    if other.file == file_name and (other.name, other.version) != (name, version):
                        raise LibraryError(
                            f"{name}@{version} would share the cache file {file_name} with"
                            f" {other.spec}; choose another name or version"
                        )
                atomic_write(self.path / file_name, data)
                entries = [e for e in entries if (e.name, e.version) != (name, version)]
                entries.append(entry)
                write_manifest(self.manifest_path, entries)
        except OSError as exc:
            raise LibraryError(f"cannot write to the library cache {self.path}: {exc}") from exc
        finally:
            self._invalidate()
        return entry

    def add_local(
        self, file: str | os.PathLike[str], name: str, version: str, global_name: str
    ) -> ManifestEntry:
        """Copy a local UMD script into the cache (``vm-system libs add``; works offline).

        Replaces an existing entry of the same name and version. Raises
        :class:`LibraryNameError` for an invalid name, version or global (and for a name
        that reads as a legacy ``<name>-<version>`` spec), :class:`LibraryError` if the file
        is missing, not a regular file, larger than 32 MiB or not UTF-8.
        """
        validate_name(name)
        validate_version(version)
        validate_global(global_name)
        if is_legacy_ambiguous(name):
            raise LibraryNameError(
                f"library name {name!r} ends in -<version>, which reads as a versioned spec;"
                " pass the version with --version instead"
            )
        source = Path(file)
        try:
            if not source.is_file():
                raise LibraryError(f"{source} is not a regular file")
            if source.stat().st_size > MAX_FILE_BYTES:
                raise LibraryError(f"{source} is larger than {MAX_FILE_BYTES} bytes")
            data = source.read_bytes()
        except OSError as exc:
            raise LibraryError(f"cannot read {source}: {exc}") from exc
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LibraryError(f"{source} is not a UTF-8 text file") from exc
        return self._store(name, version, data, global_name, "local", str(source.resolve()))

    def _is_intact(self, entry: ManifestEntry) -> bool:
        try:
            data = self.file_path(entry).read_bytes()
        except OSError:
            return False
        return len(data) == entry.size and _sha256(data) == entry.sha256

    def _download_targets(self, names: Sequence[str] | None) -> builtins.list[CatalogEntry]:
        if names is None:
            return builtins.list(self.catalog)
        if isinstance(names, str):
            raise TypeError("names must be a sequence of library specs, not a string")
        targets: dict[str, CatalogEntry] = {}
        for spec in names:
            name, version = resolve_name(spec)
            known = catalog_entry(name, self.catalog)
            if known is None or version not in (None, known.version):
                if known is None:
                    raise UnknownLibrary(
                        name,
                        version,
                        f"{spec} is not in the catalog, so it cannot be downloaded"
                        f" (available: {', '.join(catalog_names(self.catalog))})",
                    )
                raise self._unknown(name, version, known)
            targets[known.name] = known
        return builtins.list(targets.values())

    def _fetch(
        self, npm: str, target: CatalogEntry, cancelled: threading.Event | None
    ) -> ManifestEntry:
        data = npm_pack_file(
            npm,
            target.package,
            target.version,
            target.file,
            timeout=self._npm_timeout,
            cancelled=cancelled,
        )
        actual = _sha256(data)
        if target.sha256 is not None and actual != target.sha256:
            raise IntegrityError(
                f"{target.npm_spec}/{target.file} has sha256 {actual}, the catalog pins"
                f" {target.sha256}; the registry served different bytes"
            )
        if target.size is not None and len(data) != target.size:
            raise IntegrityError(
                f"{target.npm_spec}/{target.file} is {len(data)} bytes, the catalog pins"
                f" {target.size}"
            )
        origin = f"npm:{target.npm_spec}/{target.file}"
        return self._store(target.name, target.version, data, target.global_name, "npm", origin)

    def download(
        self,
        names: Sequence[str] | None = None,
        progress: ProgressCallback | None = None,
        *,
        max_workers: int = 4,
        cancelled: threading.Event | None = None,
    ) -> builtins.list[ManifestEntry]:
        """Fetch catalog libraries with ``npm pack`` into the cache; return their entries.

        ``names`` are specs (``lodash``, ``lodash@4.17.21``, ``lodash-4.17.21``); ``None``
        means the whole catalog. All names are validated before anything is fetched
        (:class:`LibraryNameError`, :class:`UnknownLibrary`). An entry already cached with a
        matching sha256 is a cache hit and runs no npm. Misses are fetched concurrently;
        each file is checked against the catalog's pinned sha256 and size, written
        atomically and recorded in the manifest. ``progress`` is called on the calling
        thread (see :data:`ProgressCallback`). Setting ``cancelled`` kills the running npm
        processes (their process groups); their libraries fail with "cancelled".

        Raises :class:`NpmNotFoundError` if something must be fetched and npm is missing,
        and after trying every library :class:`DownloadError` whose ``failures`` and
        ``completed`` say what happened if any failed.
        """
        targets = self._download_targets(names)

        def emit(spec: str, event: str) -> None:
            if progress is not None:
                progress(spec, event)

        done: dict[str, ManifestEntry] = {}
        pending: builtins.list[CatalogEntry] = []
        for target in targets:
            cached = self.get(target.name, target.version)
            if cached is not None and self._is_intact(cached):
                done[target.name] = cached
                emit(target.spec, "cached")
            else:
                pending.append(target)
        failures: dict[str, str] = {}
        if pending:
            npm = find_npm(self._npm)
            workers = max(1, min(max_workers, len(pending)))
            with ThreadPoolExecutor(workers, thread_name_prefix="vm-system-npm") as pool:
                futures: dict[Future[ManifestEntry], CatalogEntry] = {}
                for target in pending:
                    emit(target.spec, "downloading")
                    futures[pool.submit(self._fetch, npm, target, cancelled)] = target
                for future in as_completed(futures):
                    target = futures[future]
                    try:
                        done[target.name] = future.result()
                    except LibraryError as exc:
                        failures[target.spec] = exc.message
                        emit(target.spec, "failed")
                    else:
                        emit(target.spec, "downloaded")
        completed = [done[t.name] for t in targets if t.name in done]
        if failures:
            first = next(iter(failures.items()))
            error = DownloadError(
                f"failed to download {len(failures)} of {len(targets)} libraries:"
                f" {first[0]}: {first[1]}"
            )
            error.failures = failures
            error.completed = completed
            raise error
        return completed


def check_known(spec: str, cache: LibraryCache | None = None) -> LibraryRef:
    """Module-level :meth:`LibraryCache.check_known`; without a cache, the catalog only."""
    if cache is not None:
        return cache.check_known(spec)
    name, version = resolve_name(spec)
    known = catalog_entry(name)
    if known is not None and version in (None, known.version):
        return LibraryRef(name, version)
    shown = name if version is None else f"{name}@{version}"
    raise UnknownLibrary(name, version, f"unknown library {shown}: not in the catalog")


def is_known(spec: str, cache: LibraryCache | None = None) -> bool:
    """True if ``spec`` names a catalog library or one in ``cache``'s manifest."""
    try:
        check_known(spec, cache)
    except LibraryError:
        return False
    return True
