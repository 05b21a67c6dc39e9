"""The module loader's host side: resolve specifiers and read module files, inside the worktree.

The prelude's loader (``js/prelude/9-modules.js``) asks these host functions to resolve an
``import``/``require`` specifier and to read the file it names; JavaScript never sees a path
or a byte outside the session's worktree. Resolution follows Node's rules where they apply:

- relative specifiers (``./x``, ``../x``) resolve against the importing file's directory,
  trying the path as it is, then with an extension (:data:`EXTENSIONS`), then as a directory
  (``package.json`` ``main``, then ``index.*``); ``./x.js`` also finds ``./x.ts`` (the
  TypeScript convention);
- absolute specifiers are refused (a worktree's files name each other relatively);
- bare specifiers look in ``node_modules`` of the importing directory and each parent up to the
  worktree root: ``package.json`` ``exports`` (conditions ``import`` or ``require``, then
  ``default``), then ``module`` (for ``import``) and ``main``, then ``index.*``.

Every candidate is confined with :func:`vmsystem.modules.fs.confine` (``realpath``: a symlink
leading outside is refused) before it is looked at, so no byte from outside is read.
"""

from __future__ import annotations

import json
import os
import posixpath
import stat
from pathlib import Path
from typing import Any

from vmsystem.modules.fs import MAX_FILE_BYTES, confine
from vmsystem.runtime import HostError, HostFunction

__all__ = ["EXTENSIONS", "loader_functions"]

#: Extensions tried, in order, for a specifier without one (Node's, then TypeScript's).
EXTENSIONS = (".js", ".mjs", ".cjs", ".json", ".ts", ".mts", ".cts", ".tsx", ".jsx")
#: ``./x.js`` may name ``./x.ts`` (TypeScript sources import their compiled names).
_TS_TWINS = {".js": (".ts", ".tsx"), ".mjs": (".mts",), ".cjs": (".cts",), ".jsx": (".tsx",)}
_FORMATS = {".mjs": "esm", ".mts": "esm", ".cjs": "cjs", ".cts": "cjs", ".json": "json"}
_TS = frozenset({".ts", ".mts", ".cts", ".tsx"})


def _version(info: os.stat_result) -> str:
    return f"{info.st_mtime_ns}:{info.st_size}:{info.st_ino}"


class _Resolver:
    """Resolution inside one worktree (``root`` is a real path)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # ------------------------------------------------------------------ paths
    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix() or "."

    def inside(self, path: str, specifier: str) -> Path:
        """The real path of worktree-relative ``path``; refused when it leads outside."""
        try:
            return confine(self.root, path, "import")
        except HostError:
            raise HostError(
                f'Invalid module "{specifier}": it leads outside the session worktree'
            ) from None

    def is_file(self, path: str, specifier: str) -> Path | None:
        target = self.inside(path, specifier)
        try:
            return target if stat.S_ISREG(target.stat().st_mode) else None
        except OSError:
            return None

    def is_dir(self, path: str, specifier: str) -> Path | None:
        target = self.inside(path, specifier)
        return target if target.is_dir() else None

    def package_json(self, directory: str, specifier: str) -> dict[str, Any] | None:
        found = self.is_file(posixpath.join(directory, "package.json"), specifier)
        if found is None:
            return None
        try:
            data = json.loads(found.read_bytes()[:MAX_FILE_BYTES])
        except (OSError, ValueError):
            problem = f"invalid {self.rel(found)}"
            raise HostError(f"Cannot load module '{specifier}': {problem}") from None
        return data if isinstance(data, dict) else None

    # ------------------------------------------------------------------ files
    def as_file(self, path: str, specifier: str) -> Path | None:
        found = self.is_file(path, specifier)
        if found is not None:
            return found
        base, ext = posixpath.splitext(path)
        for twin in _TS_TWINS.get(ext, ()):
            found = self.is_file(base + twin, specifier)
            if found is not None:
                return found
        for extension in EXTENSIONS:
            found = self.is_file(path + extension, specifier)
            if found is not None:
                return found
        return None

    def as_directory(self, path: str, specifier: str, mode: str) -> Path | None:
        if self.is_dir(path, specifier) is None:
            return None
        package = self.package_json(path, specifier) or {}
        fields = ("module", "main") if mode == "import" else ("main",)
        for field in fields:
            entry = package.get(field)
            if isinstance(entry, str) and entry:
                target = posixpath.normpath(posixpath.join(path, entry))
                found = self.as_file(target, specifier) or self.index(target, specifier)
                if found is not None:
                    return found
        return self.index(path, specifier)

    def index(self, path: str, specifier: str) -> Path | None:
        for extension in EXTENSIONS:
            found = self.is_file(posixpath.join(path, "index" + extension), specifier)
            if found is not None:
                return found
        return None

    # ------------------------------------------------------------------ specifiers
    def resolve(self, specifier: str, base: str, mode: str) -> Path | None:
        """The file ``specifier`` names from directory ``base``; None for a bare specifier no
        ``node_modules`` holds (the prelude then tries template libraries)."""
        if specifier.startswith("/"):
            raise HostError(
                f'Invalid module "{specifier}": absolute paths are refused (they could lead '
                "outside the session worktree); import a path relative to the importing file"
            )
        if specifier in (".", "..") or specifier.startswith(("./", "../")):
            joined = posixpath.normpath(posixpath.join(base, specifier))
            if joined == ".." or joined.startswith("../"):
                raise HostError(
                    f'Invalid module "{specifier}": it leads outside the session worktree'
                )
            return self.local(joined, specifier, mode)
        return self.package(specifier, base, mode)

    def local(self, path: str, specifier: str, mode: str) -> Path:
        found = self.as_file(path, specifier) or self.as_directory(path, specifier, mode)
        if found is None:
            raise HostError(f"Cannot find module '{specifier}'")
        return found

    def package(self, specifier: str, base: str, mode: str) -> Path | None:
        parts = specifier.split("/")
        count = 2 if specifier.startswith("@") else 1
        if len(parts) < count or any(p in ("", ".", "..") for p in parts):
            raise HostError(f"Invalid module specifier '{specifier}'")
        name, subpath = "/".join(parts[:count]), "/".join(parts[count:])
        directory = base
        while True:
            candidate = posixpath.normpath(posixpath.join(directory, "node_modules", name))
            if self.is_dir(candidate, specifier) is not None:
                return self.in_package(candidate, subpath, specifier, mode)
            if directory in ("", "."):
                return None
            directory = posixpath.dirname(directory)

    def in_package(self, directory: str, subpath: str, specifier: str, mode: str) -> Path:
        package = self.package_json(directory, specifier) or {}
        exports = package.get("exports")
        if exports is not None:
            key = "./" + subpath if subpath else "."
            target = _exports_target(exports, key, mode)
            if target is None:
                raise HostError(
                    f"Cannot find module '{specifier}': package subpath '{key}' is not "
                    f"exported by {directory}/package.json"
                )
            joined = posixpath.normpath(posixpath.join(directory, target))
            found = self.is_file(joined, specifier)
            if found is None:
                raise HostError(f"Cannot find module '{specifier}' ({joined} does not exist)")
            return found
        if subpath:
            return self.local(posixpath.join(directory, subpath), specifier, mode)
        return self.local(directory, specifier, mode)

    def module_type(self, path: Path) -> str | None:
        """``type`` of the nearest ``package.json`` above ``path`` (inside the worktree)."""
        directory = posixpath.dirname(self.rel(path))
        while True:
            package = self.package_json(directory or ".", directory)
            if package is not None:
                kind = package.get("type")
                return kind if isinstance(kind, str) else None
            if directory in ("", "."):
                return None
            directory = posixpath.dirname(directory)

    def describe(self, path: Path) -> dict[str, Any]:
        """What the prelude needs to load ``path``: its path, format and version."""
        ext = path.suffix.lower()
        fmt = _FORMATS.get(ext)
        if fmt is None:
            kind = self.module_type(path)
            fmt = "esm" if kind == "module" else "cjs" if kind == "commonjs" else "auto"
        info = path.stat()
        return {
            "path": self.rel(path),
            "file": str(path),
            "format": fmt,
            "ts": ext in _TS,
            "jsx": ext in (".tsx", ".jsx"),
            "version": _version(info),
        }


def _exports_target(exports: Any, key: str, mode: str) -> str | None:
    """The target of subpath ``key`` in a package's ``exports`` (Node's conditions)."""
    if isinstance(exports, str | list):
        return _condition(exports, mode) if key == "." else None
    if not isinstance(exports, dict):
        return None
    if not any(isinstance(k, str) and k.startswith(".") for k in exports):
        return _condition(exports, mode) if key == "." else None  # conditions only
    if key in exports:
        return _condition(exports[key], mode)
    for pattern, target in exports.items():  # "./features/*": "./src/features/*.js"
        if not isinstance(pattern, str) or pattern.count("*") != 1:
            continue
        prefix, suffix = pattern.split("*")
        if key.startswith(prefix) and key.endswith(suffix) and len(key) >= len(pattern) - 1:
            star = key[len(prefix) : len(key) - len(suffix)]
            chosen = _condition(target, mode)
            return chosen.replace("*", star) if chosen is not None else None
    return None


def _condition(target: Any, mode: str) -> str | None:
    if isinstance(target, str):
        return target if target.startswith("./") else None
    if isinstance(target, list):
        for item in target:
            chosen = _condition(item, mode)
            if chosen is not None:
                return chosen
        return None
    if isinstance(target, dict):
        for condition, value in target.items():
            if condition in (mode, "default"):
                chosen = _condition(value, mode)
                if chosen is not None:
                    return chosen
    return None


def loader_functions(worktree: Path) -> dict[str, HostFunction]:
    """The loader's host functions (``loader.resolve``, ``loader.read``, ``loader.versions``)
    for a session whose worktree is ``worktree``."""
    resolver = _Resolver(Path(os.path.realpath(worktree)))
    # The version of each module whose source went out with a resolve answer: the prelude has
    # probably kept it, so it is not sent again while unchanged (the prelude reads it with
    # loader.read when it has not).
    sent: dict[str, str] = {}

    def resolve(args: list[Any]) -> dict[str, Any] | None:
        specifier, base, mode = [*args, None, None, None][:3]
        if not isinstance(specifier, str) or not specifier or "\x00" in specifier:
            raise HostError("module specifier must be a non-empty string", "TypeError")
        directory = base if isinstance(base, str) and base else "."
        found = resolver.resolve(specifier, directory, "import" if mode == "import" else "require")
        if found is None:
            return None
        desc = resolver.describe(found)
        if sent.get(desc["path"]) != desc["version"]:
            loaded = read_file(found, desc["path"])
            if loaded["version"] == desc["version"]:
                desc["source"] = loaded["source"]
                sent[desc["path"]] = desc["version"]
        return desc

    def read(args: list[Any]) -> dict[str, Any]:
        path = args[0] if args else None
        if not isinstance(path, str):
            raise HostError("module path must be a string", "TypeError")
        return read_file(resolver.inside(path, path), path)

    def read_file(target: Path, path: str) -> dict[str, Any]:
        try:
            fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as handle:
                info = os.fstat(handle.fileno())
                if not stat.S_ISREG(info.st_mode):
                    raise HostError(f"Cannot load module '{path}': not a regular file")
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise HostError(f"Cannot load module '{path}': {exc.strerror}") from None
        if len(data) > MAX_FILE_BYTES:
            raise HostError(f"Cannot load module '{path}': larger than 16 MiB")
        return {"source": data.decode("utf-8", errors="replace"), "version": _version(info)}

    def versions(args: list[Any]) -> list[str | None]:
        out: list[str | None] = []
        for path in args[0] if args and isinstance(args[0], list) else []:
            try:
                target = resolver.inside(str(path), str(path))
                out.append(_version(target.stat()))
            except (OSError, HostError):
                out.append(None)
        return out

    return {"loader.resolve": resolve, "loader.read": read, "loader.versions": versions}
