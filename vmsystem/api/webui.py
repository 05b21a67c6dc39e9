"""Serving the built web UI at ``/`` with SPA fallback (or a page saying how to build it)."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import Request
from fastapi.responses import Response

__all__ = ["STATIC_DIR", "serve_ui"]

STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"
_NOT_BUILT = b"""<!doctype html><html><head><meta charset="utf-8"><title>vm-system</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>vm-system</h1><p>The daemon is running and its API answers at <code>/api/v1</code>
(<a href="/docs">API docs</a>), but the web UI has not been built.</p>
<p>Build it with <code>make ui</code> (or <code>npm --prefix ui ci &amp;&amp; npm --prefix ui run
build</code>) and reload this page.</p></body></html>"""
_NO_UI_PREFIXES = ("/api/", "/metrics", "/openapi.json", "/docs", "/redoc")


async def serve_ui(request: Request) -> Response | None:
    """The UI response for an unmatched GET/HEAD outside the API, else None."""
    path = request.url.path
    if request.method not in {"GET", "HEAD"} or path.startswith(_NO_UI_PREFIXES):
        return None
    index = STATIC_DIR / "index.html"
    if not index.is_file():
        return Response(_NOT_BUILT, media_type="text/html")
    candidate = _static_file(path)
    if candidate is not None:
        media = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
        cache = "public, max-age=31536000, immutable" if "/assets/" in path else "no-cache"
        return Response(candidate.read_bytes(), media_type=media, headers={"Cache-Control": cache})
    return Response(
        index.read_bytes(), media_type="text/html", headers={"Cache-Control": "no-cache"}
    )


def _static_file(path: str) -> Path | None:
    """The file of the build that ``path`` names, None if it names none (a path the file
    system cannot take, such as one too long, names none)."""
    try:
        candidate = (STATIC_DIR / path.lstrip("/")).resolve()
        found = candidate.is_file() and STATIC_DIR in candidate.parents
    except (OSError, ValueError):
        return None
    return candidate if found else None
