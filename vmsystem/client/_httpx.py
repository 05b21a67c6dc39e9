"""httpx without its command-line tool at import.

``import httpx`` imports ``httpx._main``, httpx's own command-line tool, whenever click, rich
and pygments are installed (they are, beside the CLI's Typer and the daemon's uvicorn): about
a third of the SDK's import time, for a tool the SDK never runs. A placeholder takes its place
in ``sys.modules`` before httpx is first imported; its ``main`` (``httpx.main``) imports the
real tool when it is called. Nothing happens when httpx was imported already.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__all__: list[str] = []

_NAME = "httpx._main"


def _main(*args: Any, **kwargs: Any) -> Any:
    """httpx's command-line tool, imported now."""
    if getattr(sys.modules.get(_NAME), "main", None) is _main:
        del sys.modules[_NAME]
    return importlib.import_module(_NAME).main(*args, **kwargs)


if "httpx" not in sys.modules and _NAME not in sys.modules:
    _placeholder = types.ModuleType(_NAME, "Placeholder of httpx's command-line tool.")
    _placeholder.main = _main  # type: ignore[attr-defined]
    sys.modules[_NAME] = _placeholder
