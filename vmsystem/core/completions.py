"""Completion: what may follow the cursor in a session's REPL input (Tab in the terminal
REPL, the UI editor's autocompletion, a Jupyter ``complete_request``).

The names come from the session's own runtime, on its host: globals (REPL bindings are
globals), keywords, and properties along the prototype chain for ``a.b.pr``, found without
running user code (see ``complete`` in the runtime's ``js/prelude/8-repl.js``). A completion is
not an execution: nothing is recorded. It needs the runtime to itself, so while an execution
runs the session answers ``SESSION_BUSY`` at once instead of waiting.
"""

from __future__ import annotations

from vmsystem.core.errors import SessionBusy, SessionNotFound, SessionNotReady, ValidationError
from vmsystem.core.ids import normalize_id
from vmsystem.core.registry import RuntimeRegistry
from vmsystem.runtime import Completion, EngineBusy, EngineError
from vmsystem.store import Store

__all__ = ["MAX_COMPLETION_INPUT", "Completion", "CompletionService"]

#: The longest input a completion accepts (characters).
MAX_COMPLETION_INPUT = 100_000


class CompletionService:
    """Completions in live sessions."""

    def __init__(self, store: Store, registry: RuntimeRegistry) -> None:
        self._store = store
        self._registry = registry

    def complete(self, session_id: str, code: str, cursor: int | None = None) -> Completion:
        """Names that may replace ``code[cursor_start:cursor_end]`` at ``cursor`` (default:
        the end of ``code``; offsets in characters).

        Raises SessionNotFound / SessionNotReady for a session without a live runtime,
        SessionBusy while it runs an execution, ValidationError for a bad cursor or an input
        over :data:`MAX_COMPLETION_INPUT` characters.
        """
        sid = normalize_id(session_id, "session_id")
        if len(code) > MAX_COMPLETION_INPUT:
            raise ValidationError(
                f"code is longer than {MAX_COMPLETION_INPUT} characters", field="code"
            )
        at = len(code) if cursor is None else cursor
        if not 0 <= at <= len(code):
            raise ValidationError(
                f"cursor must be between 0 and the length of code ({len(code)})", field="cursor"
            )
        live = self._registry.get(sid)
        if live is None:
            row = self._store.get_session(sid)
            if row is None:
                raise SessionNotFound(session_id=sid)
            raise SessionNotReady(
                f"Session is not ready (status {row.status.value})",
                session_id=sid,
                status=row.status.value,
            )
        if not live.busy.acquire(blocking=False):
            raise SessionBusy(session_id=sid, execution_id=live.current_execution)
        try:
            return live.runtime.complete(code, at)
        except EngineBusy:
            raise SessionBusy(session_id=sid, execution_id=live.current_execution) from None
        except EngineError as exc:
            raise SessionNotReady(
                f"Session is not ready: its runtime cannot complete ({exc})", session_id=sid
            ) from exc
        finally:
            live.touch()
            live.busy.release()
