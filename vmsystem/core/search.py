"""Full-text search over the execution journal (inputs, console text, error messages)."""

from __future__ import annotations

from dataclasses import dataclass

from vmsystem.core.errors import ValidationError
from vmsystem.core.ids import normalize_id
from vmsystem.models import ExecutionMatch
from vmsystem.store import Store

__all__ = ["MAX_SEARCH_LIMIT", "MAX_SEARCH_OFFSET", "MAX_SEARCH_QUERY", "SearchPage", "search"]

#: Largest page of search results.
MAX_SEARCH_LIMIT = 100
#: Deepest offset a search pages to (ranked paging gets slower the deeper it goes).
MAX_SEARCH_OFFSET = 10_000
#: Longest query, in characters.
MAX_SEARCH_QUERY = 1000


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of search results, best first; ``next_offset`` is None on the last page."""

    matches: list[ExecutionMatch]
    next_offset: int | None


def search(
    store: Store,
    q: str,
    *,
    session_id: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> SearchPage:
    """Finished executions whose input, console text or error message contains every word of
    ``q`` (words: letters and digits, any case; everything else separates words, so no query
    syntax can fail), ranked best first. VALIDATION_ERROR on a blank or too long ``q`` or an
    out-of-range ``limit``/``offset``."""
    if not q or not q.strip():
        raise ValidationError("q is required")
    if len(q) > MAX_SEARCH_QUERY:
        raise ValidationError(f"q must be at most {MAX_SEARCH_QUERY} characters")
    if not 1 <= limit <= MAX_SEARCH_LIMIT:
        raise ValidationError(f"limit must be from 1 to {MAX_SEARCH_LIMIT}")
    if not 0 <= offset <= MAX_SEARCH_OFFSET:
        raise ValidationError(f"offset must be from 0 to {MAX_SEARCH_OFFSET}")
    sid = None if session_id is None else normalize_id(session_id, "session_id")
    matches, more = store.search_executions(q, session_id=sid, limit=limit, offset=offset)
    return SearchPage(matches, offset + limit if more else None)
