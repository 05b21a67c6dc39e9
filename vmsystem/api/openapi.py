"""The daemon's OpenAPI document without a server: ``python -m vmsystem.api.openapi [FILE]``.

The web UI's API types (``ui/src/api/openapi.ts``) are generated from this document (``make
ui-types``; a test checks that the committed file is what it gives). The document is built
from an app over a throwaway store in a temporary directory, so it is the daemon's own.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from vmsystem.api.app import create_app
from vmsystem.core import open_system

__all__ = ["openapi_document"]


def openapi_document() -> dict[str, Any]:
    """The document ``GET /openapi.json`` answers with."""
    with tempfile.TemporaryDirectory(prefix="vmsystem-openapi-") as tmp:
        system = open_system(str(Path(tmp) / "vm.db"), cache_dir=Path(tmp))
        try:
            return create_app(system, close_on_shutdown=False).openapi()
        finally:
            system.close()


def main(argv: list[str]) -> int:
    text = json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"
    if argv:
        Path(argv[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
