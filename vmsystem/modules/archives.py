"""Whole trees in one request: tar and zip archives packed from and unpacked into a worktree.

An upload is checked as a whole before anything is written: every member must be a regular
file or a directory with a clean relative name (no ``..``, no absolute name, no link, device
or FIFO member), and the members together must stay within the size limit; otherwise the
archive is refused and the worktree is untouched. Each file is then written like a single
upload (confined with symlinks resolved, atomic replace). A download packs regular files and
directories; symlinks are left out (an upload would refuse them).
"""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

from vmsystem.modules.worktree import (
    FileReply,
    WorktreeError,
    clean_path,
    confine_path,
    write_file,
)

__all__ = ["ARCHIVE_FORMATS", "MAX_MEMBERS", "pack", "unpack"]

#: The formats a download can be packed in.
ARCHIVE_FORMATS = ("tar", "zip")
#: The most members one archive may have (either way).
MAX_MEMBERS = 50_000


def _refuse(message: str, **details: object) -> WorktreeError:
    return WorktreeError("INVALID_ARCHIVE", message, **details)


def _member_path(name: str) -> str:
    """The clean relative path of a member, or the whole archive is refused."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise _refuse(f"archive member has an absolute name: {name}", member=name)
    if "\\" in name:
        raise _refuse(f"archive member name contains a backslash: {name}", member=name)
    try:
        return clean_path(name)
    except WorktreeError as exc:
        raise _refuse(f"archive member {name!r} is refused: {exc.message}", member=name) from None


def _tar_members(data: bytes, limit: int) -> list[tuple[str, bytes | None]]:
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")  # noqa: SIM115 (closed below)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise _refuse(f"not a readable tar or zip archive: {exc}") from None
    members: list[tuple[str, bytes | None]] = []
    total = 0
    with archive:
        try:
            infos = archive.getmembers()
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise _refuse(f"the tar archive is damaged: {exc}") from None
        _check_count(len(infos))
        for info in infos:
            name = info.name
            if info.issym() or info.islnk():
                raise _refuse(f"archive member is a link: {name}", member=name)
            if not (info.isfile() or info.isdir()):
                raise _refuse(f"archive member is not a file or directory: {name}", member=name)
            rel = _member_path(name)
            if info.isdir():
                members.append((rel, None))
                continue
            total += info.size
            _check_total(total, limit)
            handle = archive.extractfile(info)
            members.append((rel, handle.read() if handle is not None else b""))
    return members


def _zip_members(data: bytes, limit: int) -> list[tuple[str, bytes | None]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise _refuse(f"the zip archive is damaged: {exc}") from None
    members: list[tuple[str, bytes | None]] = []
    total = 0
    with archive:
        infos = archive.infolist()
        _check_count(len(infos))
        for info in infos:
            name = info.filename
            kind = (info.external_attr >> 16) & 0o170000
            if kind == 0o120000:
                raise _refuse(f"archive member is a link: {name}", member=name)
            if kind not in (0, 0o100000, 0o040000):
                raise _refuse(f"archive member is not a file or directory: {name}", member=name)
            rel = _member_path(name)
            if info.is_dir():
                members.append((rel, None))
                continue
            total += info.file_size
            _check_total(total, limit)
            try:
                content = archive.read(info)
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
                raise _refuse(f"archive member {name} cannot be read: {exc}") from None
            if len(content) != info.file_size:
                raise _refuse(f"archive member {name} is not the size it claims", member=name)
            members.append((rel, content))
    return members


def _check_count(count: int) -> None:
    if count > MAX_MEMBERS:
        raise WorktreeError(
            "PAYLOAD_TOO_LARGE", f"the archive has {count} members, more than {MAX_MEMBERS}"
        )


def _check_total(total: int, limit: int) -> None:
    if limit and total > limit:
        raise WorktreeError(
            "PAYLOAD_TOO_LARGE",
            f"the archive unpacks to more than {limit} bytes",
            limit=limit,
        )


def unpack(root: Path, path: str, data: bytes, limit: int) -> FileReply:
    """Unpack a tar (any compression) or zip archive into directory ``path`` of the worktree
    (``""``: its root). Every member is checked before the first is written."""
    members = (
        _zip_members(data, limit)
        if zipfile.is_zipfile(io.BytesIO(data))
        else _tar_members(data, limit)
    )
    base = "" if path.strip() in ("", ".", "/") else clean_path(path)
    for rel, _ in members:
        # A link already in the worktree must not carry a member out of it either.
        confine_path(root, f"{base}/{rel}" if base else rel)
    written: list[dict[str, object]] = []
    for rel, content in members:
        target = f"{base}/{rel}" if base else rel
        if content is None:
            _, directory = confine_path(root, target)
            if directory.exists() and not directory.is_dir():
                raise WorktreeError("INVALID_PATH", f"Path is not a directory: {target}")
            directory.mkdir(parents=True, exist_ok=True)
            continue
        reply = write_file(root, target, content)
        written.append(
            {"path": reply.path, "type": "file", "size": reply.size, "mtime": reply.mtime}
        )
    total = sum(int(str(e["size"])) for e in written)
    return FileReply(path=base or ".", size=total, entries=written)


def pack(root: Path, path: str, fmt: str, limit: int) -> FileReply:
    """Pack directory ``path`` (``""``: the whole worktree) as ``tar`` (gzip-compressed) or
    ``zip``; member names are relative to that directory. PAYLOAD_TOO_LARGE past ``limit``
    bytes of content."""
    if fmt not in ARCHIVE_FORMATS:
        formats = ", ".join(ARCHIVE_FORMATS)
        raise WorktreeError("VALIDATION_ERROR", f"format must be one of {formats}")
    if path.strip() in ("", ".", "/"):
        rel, top = ".", root
    else:
        rel, top = confine_path(root, path)
    if not top.is_dir():
        if not top.exists():
            raise WorktreeError("FILE_NOT_FOUND", f"Directory not found: {rel}", path=rel)
        raise WorktreeError("INVALID_PATH", f"Path is not a directory: {rel}", path=rel)
    files: list[tuple[str, Path]] = []
    dirs: list[str] = []
    total = 0
    for current, subdirs, names in os.walk(top, followlinks=False):
        subdirs.sort()
        here = Path(current)
        for name in sorted(subdirs):
            if not (here / name).is_symlink():
                dirs.append((here / name).relative_to(top).as_posix())
        for name in sorted(names):
            item = here / name
            if item.is_symlink() or not item.is_file():
                continue
            total += item.stat().st_size
            _check_total(total, limit)
            files.append((item.relative_to(top).as_posix(), item))
        _check_count(len(files) + len(dirs))
    buffer = io.BytesIO()
    if fmt == "zip":
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in dirs:
                archive.writestr(f"{name}/", b"")
            for name, item in files:
                archive.write(item, name)
    else:
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            for name in dirs:
                archive.add(top / name, arcname=name, recursive=False)
            for name, item in files:
                archive.add(item, arcname=name, recursive=False)
    return FileReply(path=rel, data=buffer.getvalue(), size=total)
