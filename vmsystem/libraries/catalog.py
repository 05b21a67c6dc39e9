"""The catalog of well-known UMD builds on npm that ``vm-system libs download`` can fetch.

Every entry was checked against the real npm tarball: ``file`` exists inside the package,
``sha256``/``size`` are the bytes of that file, and evaluating it as a plain script (no
``module``, ``exports``, ``define``, ``window`` or ``self``) defines ``global_name`` on the
global object. zustand is deliberately absent: its npm files are CommonJS (defect D-11).
"""

from __future__ import annotations

from dataclasses import dataclass

from vmsystem.libraries.names import validate_global, validate_name, validate_version

__all__ = ["CATALOG", "CatalogEntry", "catalog_entry", "catalog_names"]


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One downloadable library.

    ``package`` is the npm package name, ``file`` the path of the script inside the package
    (relative, ``/``-separated), ``global_name`` the global it defines; ``sha256`` and
    ``size`` pin the file's bytes (``None`` only for catalogs built by tests or embedders).
    """

    name: str
    version: str
    package: str
    file: str
    global_name: str
    description: str
    sha256: str | None = None
    size: int | None = None

    def __post_init__(self) -> None:
        validate_name(self.name)
        validate_version(self.version)
        validate_global(self.global_name)
        parts = self.file.split("/")
        if self.file.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"catalog file must be a relative path in the package: {self.file!r}")

    @property
    def spec(self) -> str:
        """``name@version``."""
        return f"{self.name}@{self.version}"

    @property
    def npm_spec(self) -> str:
        """The argument given to ``npm pack``: ``package@version``."""
        return f"{self.package}@{self.version}"

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready mapping (``global`` is spelt as in the manifest)."""
        return {
            "name": self.name,
            "version": self.version,
            "package": self.package,
            "file": self.file,
            "global": self.global_name,
            "description": self.description,
            "sha256": self.sha256,
            "size": self.size,
        }


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        name="lodash",
        version="4.17.21",
        package="lodash",
        file="lodash.min.js",
        global_name="_",
        description="Utility functions for arrays, objects, strings and functions",
        sha256="a9705dfc47c0763380d851ab1801be6f76019f6b67e40e9b873f8b4a0603f7a9",
        size=73015,
    ),
    CatalogEntry(
        name="dayjs",
        version="1.11.10",
        package="dayjs",
        file="dayjs.min.js",
        global_name="dayjs",
        description="Small immutable date library with a Moment-compatible API",
        sha256="9cfdb93f38afcf2d076abecd66d32bfd3383cdf1967654ebc26a26605daf4173",
        size=7160,
    ),
    CatalogEntry(
        name="ramda",
        version="0.29.0",
        package="ramda",
        file="dist/ramda.min.js",
        global_name="R",
        description="Functional programming library with auto-curried functions",
        sha256="e91c541907b48e76a332ac086fb7996bf778312379d610ce9b5136c59d1d1ca6",
        size=52543,
    ),
    CatalogEntry(
        name="moment",
        version="2.29.4",
        package="moment",
        file="min/moment.min.js",
        global_name="moment",
        description="Parse, validate, manipulate and format dates",
        sha256="f343aa319a17a3fc372ee6ad5af482b9bf6a298cb22652b4aa7502604821071f",
        size=58103,
    ),
    CatalogEntry(
        name="axios",
        version="1.6.0",
        package="axios",
        file="dist/axios.min.js",
        global_name="axios",
        description="HTTP client API (sessions have no network adapter: requests fail)",
        sha256="1dc60b613493f242077201a552d894e8b6bbf844396e92206441a3772e19f8d5",
        size=32316,
    ),
)


def catalog_entry(name: str, catalog: tuple[CatalogEntry, ...] = CATALOG) -> CatalogEntry | None:
    """The catalog entry called ``name`` (validated), or ``None``."""
    validate_name(name)
    for entry in catalog:
        if entry.name == name:
            return entry
    return None


def catalog_names(catalog: tuple[CatalogEntry, ...] = CATALOG) -> list[str]:
    """The catalog's library names, sorted."""
    return sorted(entry.name for entry in catalog)
