"""Rich display: MIME bundles produced by ``display(value)`` in a session.

The prelude sends a bundle as a console line of level :data:`DISPLAY_LEVEL` whose text is the
bundle's JSON. Nothing coming out of the isolate is trusted: :func:`bundle_text` checks the
shape (MIME-type keys, string data except for ``application/json``, ``text/plain`` present)
and returns the canonical JSON text, or None for a malformed bundle (which is then dropped).
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["DISPLAY_LEVEL", "MIME_TYPE", "bundle_of", "bundle_text"]

#: The console level that carries a MIME bundle.
DISPLAY_LEVEL = "display"
#: What a MIME type key of a bundle looks like (``image/svg+xml``, ``text/plain``, ...).
MIME_TYPE = re.compile(r"^[a-z]+/[A-Za-z0-9.+_-]+$")


def bundle_of(text: str) -> dict[str, Any] | None:
    """The bundle carried by ``text``, or None if it is not a valid MIME bundle."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("text/plain"), str):
        return None
    for mime, value in data.items():
        if not MIME_TYPE.match(mime):
            return None
        if mime != "application/json" and not isinstance(value, str):
            return None
    return data


def bundle_text(text: str) -> str | None:
    """``text`` if it is a valid MIME bundle's JSON (see :func:`bundle_of`), else None."""
    return text if bundle_of(text) is not None else None
