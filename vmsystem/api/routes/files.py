"""A session's worktree files: raw bytes in and out, listings, and whole trees as archives.

Served by the host that holds the session (see :class:`vmsystem.core.files.FileService`); a
session that is not live is 409 ``SESSION_NOT_READY``. Paths are worktree-relative and
confined like run-file (percent-encoded forms are decoded before the check).
"""

from __future__ import annotations

import mimetypes
import re
from email.utils import formatdate

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from vmsystem.api.deps import run_blocking, vm
from vmsystem.api.responses import entry_json, json_response

router = APIRouter(prefix="/api/v1/sessions", tags=["files"])

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
#: Types the standard table lacks or gets wrong for a code worktree.
_TYPES = {
    ".mjs": "text/javascript",
    ".cjs": "text/javascript",
    ".ts": "text/plain",
    ".md": "text/markdown",
}
_TEXT = ("text/", "application/json", "application/javascript", "application/xml")


def _content_type(path: str) -> str:
    suffix = path[path.rfind(".") :].lower() if "." in path.rsplit("/", 1)[-1] else ""
    kind = _TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith(_TEXT) else kind


def _parse_range(header: str | None) -> dict[str, int | None] | None:
    """One ``bytes=`` range as ``start``/``end``/``suffix``; None (the whole file) for no
    header, several ranges or a form this route does not serve."""
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        return {"suffix": int(last)}
    start, end = int(first), int(last) if last else None
    if end is not None and end < start:
        return None
    return {"start": start, "end": end}


@router.put(
    "/{session_id}/files/{path:path}",
    summary="Write a worktree file: the raw body, parents created, the old file replaced "
    "atomically",
)
async def put_file(request: Request, session_id: str, path: str) -> Response:
    body = await request.body()
    entry = await run_blocking(request, vm(request).files.write, session_id, path, body)
    return json_response(entry_json(entry))


@router.get(
    "/{session_id}/files/{path:path}",
    summary="Read a worktree file: raw bytes with a content type; one Range (206) supported",
)
async def get_file(request: Request, session_id: str, path: str) -> Response:
    wanted = _parse_range(request.headers.get("range"))
    content = await run_blocking(
        request, vm(request).files.read, session_id, path, **(wanted or {})
    )
    headers = {
        "Accept-Ranges": "bytes",
        "Last-Modified": formatdate(content.mtime, usegmt=True),
    }
    status = 200
    if wanted is not None:
        status = 206
        headers["Content-Range"] = f"bytes {content.start}-{content.end}/{content.size}"
    return Response(
        content.data, status_code=status, media_type=_content_type(content.path), headers=headers
    )


@router.delete(
    "/{session_id}/files/{path:path}",
    status_code=204,
    summary="Delete a worktree file, symlink or directory (with its contents)",
)
async def delete_file(request: Request, session_id: str, path: str) -> Response:
    await run_blocking(request, vm(request).files.delete, session_id, path)
    return Response(status_code=204)


@router.get(
    "/{session_id}/files",
    summary="List a worktree directory (path: the directory, default the worktree; "
    "recursive: the whole tree)",
)
async def list_files(
    request: Request, session_id: str, path: str = "", recursive: bool = False
) -> Response:
    entries, truncated = await run_blocking(
        request, vm(request).files.list, session_id, path, recursive=recursive
    )
    return json_response(
        {
            "path": path or ".",
            "entries": [entry_json(e) for e in entries],
            "truncated": truncated,
        }
    )


@router.post(
    "/{session_id}/archive",
    summary="Upload a tar (plain, gzip, bzip2, xz) or zip archive and unpack it into directory "
    "path (default the worktree); refused as a whole if any member is",
)
async def upload_archive(request: Request, session_id: str, path: str = "") -> Response:
    body = await request.body()
    written = await run_blocking(request, vm(request).files.upload_archive, session_id, body, path)
    return json_response({"path": path or ".", "files": [entry_json(e) for e in written]})


@router.get(
    "/{session_id}/archive",
    summary="Download directory path (default the worktree) as a tar.gz or zip archive "
    "(regular files and directories; symlinks are left out)",
)
async def download_archive(
    request: Request,
    session_id: str,
    path: str = "",
    fmt: str = Query("tar", alias="format", description="tar (gzip-compressed) or zip"),
) -> Response:
    data = await run_blocking(request, vm(request).files.download_archive, session_id, path, fmt)
    name = (path.strip("/").rsplit("/", 1)[-1] or session_id) if path else session_id
    zipped = fmt == "zip"
    extension, media = ("zip", "application/zip") if zipped else ("tar.gz", "application/gzip")
    return Response(
        data,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}.{extension}"'},
    )
