"""JSON text of stored values, lone surrogates included.

A JavaScript string may hold a lone surrogate (``'\\ud800'``): Python keeps it in a ``str``,
but it is not valid Unicode, so orjson refuses it both ways and neither SQLite nor PostgreSQL
can store it as a character. Stored JSON therefore carries it as JSON's own escape
(``"\\ud800"``, plain ASCII, which JSON allows and both databases store as text): orjson writes
and reads every other value (fast), and the standard library's ``json`` only the ones orjson
refuses. Nothing is lost: reading the text gives the same string back.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["dumps", "loads", "well_formed"]


def dumps(value: Any) -> str:
    """Compact JSON text of ``value`` (lone surrogates as ``\\udXXX`` escapes)."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        # Lone surrogates, or integers beyond 64 bits: ensure_ascii escapes the former.
        return json.dumps(value, separators=(",", ":"))


def loads(text: str | bytes) -> Any:
    """The value of JSON ``text`` (escaped lone surrogates included)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def well_formed(text: str) -> str:
    """``text`` with every lone surrogate replaced by ``?`` (for what must be valid Unicode
    itself, such as the search index's words)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text
