"""The ``fs`` native module: synchronous file access confined to the session worktree.

Paths are relative to the worktree or absolute paths inside it. Every path is resolved with
``realpath`` (symlinks included, the target need not exist) and refused with ``EACCES`` when
it lands outside the worktree. Writes (``writeFileSync``, ``mkdirSync``) need the
``fs:write`` capability. Reads and writes are capped at :data:`MAX_FILE_BYTES`.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path
from typing import Any

from vmsystem.modules.scope import ModuleScope, ModuleSpec
from vmsystem.runtime import HostError, HostFunction

__all__ = ["MAX_FILE_BYTES", "MODULE", "confine"]

#: Largest file fs reads or writes (16 MiB).
MAX_FILE_BYTES = 16 * 1024 * 1024
_ENCODINGS = {
    None: "utf8",
    "utf8": "utf8",
    "utf-8": "utf8",
    "base64": "base64",
    "hex": "hex",
    "latin1": "latin1",
    "binary": "latin1",
    "ascii": "latin1",
}

_JS_FACTORY = """function (hostCall, name) {
  "use strict";
  return {
    readFileSync: (path, options) => hostCall("readFileSync", [path, options]),
    writeFileSync: (path, data, options) => { hostCall("writeFileSync", [path, data, options]); },
    existsSync: (path) => hostCall("existsSync", [path]),
    readdirSync: (path) => hostCall("readdirSync", [path]),
    mkdirSync: (path, options) => { hostCall("mkdirSync", [path, options]); },
  };
}"""


def confine(root: Path, path: Any, what: str) -> Path:
    """The real path of ``path`` (relative to ``root`` or absolute) if it stays inside
    ``root``; a JS ``EACCES`` error otherwise. ``root`` must already be a real path."""
    if not isinstance(path, str):
        raise HostError(f"{what}: path must be a string", "TypeError")
    if not path or "\x00" in path:
        raise HostError(f"{what}: path must be a non-empty string without NUL bytes", "TypeError")
    target = Path(os.path.realpath(root / path))  # an absolute `path` replaces root
    if target != root and root not in target.parents:
        raise HostError(f"EACCES: path escapes the session worktree: {path}")
    return target


def _encoding(options: Any, what: str) -> str:
    value = options.get("encoding") if isinstance(options, dict) else options
    if value is not None and not isinstance(value, str):
        raise HostError(f"{what}: encoding must be a string", "TypeError")
    key = value.lower() if isinstance(value, str) else None
    if key not in _ENCODINGS:
        raise HostError(
            f"{what}: unsupported encoding {value!r} (utf8, base64, hex, latin1)", "TypeError"
        )
    return _ENCODINGS[key]


def _os_error(exc: OSError, path: str, syscall: str) -> HostError:
    code = {
        2: "ENOENT: no such file or directory",
        13: "EACCES: permission denied",
        17: "EEXIST: file already exists",
        20: "ENOTDIR: not a directory",
        21: "EISDIR: illegal operation on a directory",
        39: "ENOTEMPTY: directory not empty",
    }.get(exc.errno or 0, f"EIO: {exc.strerror or exc}")
    return HostError(f"{code}, {syscall} '{path}'")


def _decode(data: bytes, encoding: str) -> str:
    if encoding == "base64":
        return base64.b64encode(data).decode("ascii")
    if encoding == "hex":
        return data.hex()
    if encoding == "latin1":
        return data.decode("latin-1")
    return data.decode("utf-8", errors="replace")


def _encode(text: str, encoding: str) -> bytes:
    try:
        if encoding == "base64":
            return base64.b64decode(text, validate=False)
        if encoding == "hex":
            return bytes.fromhex(text)
        if encoding == "latin1":
            return text.encode("latin-1", errors="replace")
    except (binascii.Error, ValueError) as exc:
        raise HostError(
            f"fs.writeFileSync: data is not valid {encoding}: {exc}", "TypeError"
        ) from None
    return text.encode("utf-8", errors="surrogatepass")


def _build(scope: ModuleScope) -> dict[str, HostFunction]:
    root = Path(os.path.realpath(scope.worktree))

    def need_write(what: str) -> None:
        if scope.capability("fs", "write") is None:
            raise HostError(f"{what} needs the fs:write capability")

    def read_file(args: list[Any]) -> str:
        path = args[0] if args else None
        encoding = _encoding(args[1] if len(args) > 1 else None, "fs.readFileSync")
        target = confine(root, path, "fs.readFileSync")
        try:
            info = target.stat()
            if stat.S_ISDIR(info.st_mode):
                raise HostError(f"EISDIR: illegal operation on a directory, read '{path}'")
            if not stat.S_ISREG(info.st_mode):
                raise HostError(f"EINVAL: not a regular file, read '{path}'")
            if info.st_size > MAX_FILE_BYTES:
                raise HostError(
                    f"EFBIG: file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, "
                    f"read '{path}'"
                )
            with open(target, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise _os_error(exc, str(path), "open") from None
        if len(data) > MAX_FILE_BYTES:
            raise HostError(f"EFBIG: file grew past the read limit, read '{path}'")
        return _decode(data, encoding)

    def write_file(args: list[Any]) -> None:
        need_write("fs.writeFileSync")
        path = args[0] if args else None
        data = args[1] if len(args) > 1 else None
        encoding = _encoding(args[2] if len(args) > 2 else None, "fs.writeFileSync")
        target = confine(root, path, "fs.writeFileSync")
        if not isinstance(data, str):
            raise HostError("fs.writeFileSync: data must be a string", "TypeError")
        if len(data) > MAX_FILE_BYTES:
            raise HostError(f"EFBIG: data is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        payload = _encode(data, encoding)
        if len(payload) > MAX_FILE_BYTES:
            raise HostError(f"EFBIG: data is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        try:
            # O_NOFOLLOW: a symlink planted after confine() cannot redirect the write.
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
        except OSError as exc:
            raise _os_error(exc, str(path), "open") from None

    def exists(args: list[Any]) -> bool:
        target = confine(root, args[0] if args else None, "fs.existsSync")
        return target.exists()

    def readdir(args: list[Any]) -> list[str]:
        path = args[0] if args and args[0] is not None else "."
        target = confine(root, path, "fs.readdirSync")
        try:
            return sorted(os.listdir(target))
        except OSError as exc:
            raise _os_error(exc, str(path), "scandir") from None

    def mkdir(args: list[Any]) -> None:
        need_write("fs.mkdirSync")
        path = args[0] if args else None
        options = args[1] if len(args) > 1 else None
        recursive = bool(options.get("recursive")) if isinstance(options, dict) else False
        target = confine(root, path, "fs.mkdirSync")
        try:
            if recursive:
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.mkdir()
        except FileExistsError as exc:
            if not (recursive and target.is_dir()):
                raise _os_error(exc, str(path), "mkdir") from None
        except OSError as exc:
            raise _os_error(exc, str(path), "mkdir") from None

    return {
        "readFileSync": read_file,
        "writeFileSync": write_file,
        "existsSync": exists,
        "readdirSync": readdir,
        "mkdirSync": mkdir,
    }


MODULE = ModuleSpec(
    name="fs",
    description=(
        "Synchronous file access inside the session worktree (symlinks resolved; paths "
        "leaving the worktree throw EACCES). Writes need the fs:write capability."
    ),
    functions=("readFileSync", "writeFileSync", "existsSync", "readdirSync", "mkdirSync"),
    js_factory=_JS_FACTORY,
    build=_build,
    capabilities=("fs:write",),
    side_effects=("writeFileSync", "mkdirSync"),
)
