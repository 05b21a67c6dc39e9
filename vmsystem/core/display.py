"""How console lines from a runtime become events: text lines, and MIME bundles of display()."""

from __future__ import annotations

from typing import Any

from vmsystem.models import EventType
from vmsystem.runtime.display import DISPLAY_LEVEL, bundle_of

__all__ = ["line_event"]


def line_event(level: str, text: str) -> tuple[EventType, dict[str, Any]]:
    """The event type and payload of one console line.

    A ``display`` line becomes a ``display`` event ``{data: {mime: data}, metadata: {}}`` (the
    shape of Jupyter's ``display_data``); every other line a ``console`` event.
    """
    if level == DISPLAY_LEVEL:
        bundle = bundle_of(text)
        if bundle is not None:
            return EventType.DISPLAY, {"data": bundle, "metadata": {}}
    return EventType.CONSOLE, {"level": level, "text": text}
