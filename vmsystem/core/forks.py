"""Forks: a new session from a session's template snapshot and worktree, with the source's
successful REPL and run-file executions replayed in order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vmsystem.core.errors import ForkPointInvalid, OutputLimitExceeded, VmError
from vmsystem.core.executions import ExecutionService
from vmsystem.core.ids import normalize_id
from vmsystem.core.sessions import SessionService
from vmsystem.models import EventType, Execution, ExecutionKind, ExecutionStatus, Session

__all__ = ["REPLAYED", "Divergence", "Fork", "ForkService", "console_texts", "difference"]

#: The kinds a fork replays: startup files run when the fork starts; a ``restart`` is skipped
#: (the fork starts fresh; what ran before the restart is replayed all the same).
REPLAYED = (ExecutionKind.REPL, ExecutionKind.RUN_FILE)
#: The parts of a result compared (``type`` follows from them).
RESULT_KEYS = ("json", "preview", "inspect")


@dataclass(frozen=True, slots=True)
class Divergence:
    """A replay whose outcome differs from the original's."""

    original: str
    #: None when the replay was refused before it ran (e.g. the file is gone from the worktree).
    replay: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Fork:
    """The new session, how many executions were replayed, and which diverged."""

    session: Session
    replayed: int
    diverged: list[Divergence] = field(default_factory=list)


class ForkService:
    """Fork sessions: same snapshot and worktree, successful executions replayed."""

    def __init__(self, sessions: SessionService, executions: ExecutionService) -> None:
        self._sessions = sessions
        self._executions = executions

    def fork(self, session_id: str, *, until_execution_id: str | None = None) -> Fork:
        """Start a session from ``session_id``'s snapshot (closed sources too: their snapshot
        is kept) and replay its ``ok`` REPL and run-file executions, oldest first, up to and
        including ``until_execution_id``. Replays are recorded with ``replay_of``; replaying
        stops at the first replay that does not end ``ok`` or is refused (e.g. its file is gone
        from the worktree), reported as diverged (``replay`` None when refused)."""
        source = self._sessions.get(session_id)
        plan = self._plan(source.id, until_execution_id)
        fork = self._sessions.create(
            source.template_id,
            source.worktree_path,
            workspace_id=source.workspace_id,
            base_commit_oid=source.base_commit_oid,
            snapshot=source.template_snapshot,
            managed=source.worktree_managed,
            idle_timeout_s=source.idle_timeout_s,
        )
        diverged: list[Divergence] = []
        replayed = 0
        for original in plan:
            try:
                replay = self._replay(fork.id, original)
            except VmError as exc:  # refused before it ran: nothing recorded in the fork
                diverged.append(Divergence(original.id, None, f"{exc.code}: {exc.message}"))
                break
            replayed += 1
            reason = self._difference(original, replay)
            if reason is not None:
                diverged.append(Divergence(original.id, replay.id, reason))
            if replay.status is not ExecutionStatus.OK:
                break
        return Fork(self._sessions.get(fork.id), replayed, diverged)

    def _plan(self, session_id: str, until: str | None) -> list[Execution]:
        """The source's executions to replay; ForkPointInvalid if ``until`` is not one of its
        executions (ExecutionNotFound if it does not exist)."""
        until_id = None
        if until is not None:
            until_id = normalize_id(until, "until_execution_id")
            target = self._executions.get(until_id)
            if target.session_id != session_id:
                raise ForkPointInvalid(
                    "until_execution_id is not an execution of the session",
                    session_id=session_id,
                    execution_id=until_id,
                )
        plan: list[Execution] = []
        for execution in self._executions.history(session_id):
            if execution.kind in REPLAYED and execution.status is ExecutionStatus.OK:
                plan.append(execution)
            if execution.id == until_id:
                break
        return plan

    def _replay(self, session_id: str, original: Execution) -> Execution:
        try:
            if original.kind is ExecutionKind.REPL:
                return self._executions.repl(
                    session_id, original.input or "", replay_of=original.id
                )
            return self._executions.run_file(
                session_id,
                original.path or "",
                args=original.args,
                env=original.env,
                replay_of=original.id,
            )
        except OutputLimitExceeded as exc:
            if exc.execution is None:
                raise
            return exc.execution

    def _difference(self, original: Execution, replay: Execution) -> str | None:
        """Why ``replay`` diverged from ``original``, or None."""
        return difference(
            original,
            replay,
            lambda: console_texts(self._executions, original.id),
            lambda: console_texts(self._executions, replay.id),
        )


def difference(
    original: Execution,
    replay: Execution,
    original_console: Callable[[], list[Any]],
    replay_console: Callable[[], list[Any]],
) -> str | None:
    """Why ``replay`` diverged from ``original`` (its status, its value, then its console
    output, each read only when the previous ones agree), or None."""
    if replay.status is not original.status:
        return f"status {replay.status.value} (was {original.status.value})"
    if _result(replay) != _result(original):
        return "different value"
    if replay_console() != original_console():
        return "different console output"
    return None


def console_texts(executions: ExecutionService, execution_id: str) -> list[Any]:
    """The texts of an execution's console events, in order."""
    return [
        e.payload.get("text")
        for e in executions.all_events(execution_id)
        if e.type is EventType.CONSOLE
    ]


def _result(x: Execution) -> dict[str, Any]:
    return {k: (x.result or {}).get(k) for k in RESULT_KEYS}
