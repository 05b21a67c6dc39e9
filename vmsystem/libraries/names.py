"""Library names, versions and specs, validated before anything touches a file path (D-18).

A *spec* is how a template names a library:

* ``lodash``: the cached version (the catalog's version when several are cached);
* ``lodash@4.17.21``: an exact version;
* ``lodash-4.17.21``: the legacy form of the original project (D-10); the part after the last
  ``-`` that starts a version-looking suffix (``<digits>.<digits>...``) is the version, so a
  name such as ``my-lib`` or ``lib-2`` stays a plain name.

Names match ``[a-z0-9][a-z0-9._-]{0,63}``, versions ``[0-9A-Za-z][0-9A-Za-z.+-]{0,63}`` and
globals are plain JavaScript identifiers. Nothing else is accepted: no ``/``, ``\\``, ``..``
prefix, NUL, whitespace, upper case or non-ASCII.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vmsystem.libraries.errors import LibraryNameError

__all__ = [
    "LibraryRef",
    "is_legacy_ambiguous",
    "parse_spec",
    "resolve_name",
    "safe_file_name",
    "validate_global",
    "validate_name",
    "validate_version",
]

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+-]{0,63}")
_GLOBAL = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]{0,63}")
# <name>-<version>, where the version starts with <digits>.<digits> (semver-like).
_LEGACY = re.compile(r"(?P<name>.+?)-(?P<version>[0-9]+(?:\.[0-9]+)+(?:[-+][0-9A-Za-z.+-]*)?)")
_MAX_SPEC = 200


def _show(value: str) -> str:
    """A bounded, escaped rendering of untrusted input for error messages."""
    text = value if len(value) <= 80 else value[:77] + "..."
    return repr(text)


def _require_str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise LibraryNameError(f"library {what} must be a string, got {type(value).__name__}")
    return value


def validate_name(name: str) -> str:
    """Return ``name`` if it is a valid library name, else raise :class:`LibraryNameError`."""
    name = _require_str(name, "name")
    if not _NAME.fullmatch(name):
        raise LibraryNameError(
            f"invalid library name {_show(name)}: use 1-64 characters of a-z, 0-9, '.', '_', '-'"
            ", starting with a letter or digit"
        )
    return name


def validate_version(version: str) -> str:
    """Return ``version`` if it is a valid library version, else raise :class:`LibraryNameError`."""
    version = _require_str(version, "version")
    if not _VERSION.fullmatch(version):
        raise LibraryNameError(
            f"invalid library version {_show(version)}: use 1-64 characters of A-Z, a-z, 0-9, "
            "'.', '+', '-', starting with a letter or digit"
        )
    return version


def validate_global(global_name: str) -> str:
    """Return ``global_name`` if it is a plain JavaScript identifier (``_``, ``R``, ``dayjs``)."""
    global_name = _require_str(global_name, "global")
    if not _GLOBAL.fullmatch(global_name):
        raise LibraryNameError(
            f"invalid global name {_show(global_name)}: use a JavaScript identifier "
            "(letters, digits, '_', '$'; not starting with a digit)"
        )
    return global_name


def is_legacy_ambiguous(name: str) -> bool:
    """True when ``name`` itself reads as a legacy ``<name>-<version>`` spec.

    Such names are refused when a library is added, so that every spec resolves one way.
    """
    match = _LEGACY.fullmatch(name)
    return bool(match and _NAME.fullmatch(match["name"]))


@dataclass(frozen=True, slots=True)
class LibraryRef:
    """A parsed, validated library spec: ``name`` and an optional exact ``version``."""

    name: str
    version: str | None = None

    def __str__(self) -> str:
        return self.name if self.version is None else f"{self.name}@{self.version}"


def resolve_name(spec: str) -> tuple[str, str | None]:
    """Parse ``lodash``, ``lodash@4.17.21`` or legacy ``lodash-4.17.21`` into (name, version).

    The version is ``None`` when the spec does not name one. Raises :class:`LibraryNameError`
    for anything malformed (path separators, traversal, NUL, empty parts, upper case, ...).
    """
    spec = _require_str(spec, "spec")
    if not spec or len(spec) > _MAX_SPEC:
        raise LibraryNameError(f"invalid library spec {_show(spec)}: empty or too long")
    if "@" in spec:
        name, _, version = spec.partition("@")
        return validate_name(name), validate_version(version)
    legacy = _LEGACY.fullmatch(spec)
    if legacy and _NAME.fullmatch(legacy["name"]) and _VERSION.fullmatch(legacy["version"]):
        return legacy["name"], legacy["version"]
    return validate_name(spec), None


def parse_spec(spec: str) -> LibraryRef:
    """Like :func:`resolve_name`, returning a :class:`LibraryRef`."""
    name, version = resolve_name(spec)
    return LibraryRef(name, version)


def safe_file_name(name: str, version: str) -> str:
    """The cache file name ``<name>-<version>.js`` of a validated name and version.

    The result never contains a path separator and never starts with ``.``.
    """
    return f"{validate_name(name)}-{validate_version(version)}.js"
