"""Durable sessions: a ready session whose runtime is lost (its host died, the daemon
restarted) is rebuilt under the same id from its template snapshot, its startup files and a
replay of its ``ok`` REPL and run-file executions since its last restart.

The policy is the template snapshot's ``settings.recovery.policy``: ``replay``,
``replay_if_pure`` (only when none of those runs called a side-effecting native module) or
``off``. The cost is bounded by :class:`RecoveryConfig`. A recovery is recorded as an
execution of kind ``recovery`` with one ``system`` event ``SESSION_RECOVERED`` (how many
executions were replayed, which diverged) and on the session (``recovered_at``,
``recovery_count``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from vmsystem.core.errors import SessionNotReady, StartupFailed, VmError
from vmsystem.core.executions import ExecutionService
from vmsystem.core.forks import REPLAYED, Divergence, console_texts, difference
from vmsystem.core.ids import utcnow
from vmsystem.core.lost import RuntimeLoss
from vmsystem.core.paths import read_worktree_file
from vmsystem.core.registry import LiveSession, RuntimeRegistry
from vmsystem.core.sessions import SessionService
from vmsystem.models import Execution, ExecutionKind, ExecutionStatus, SessionStatus
from vmsystem.runtime import EngineError, Outcome, OutcomeKind
from vmsystem.store import Store

__all__ = [
    "RESTART_MODES",
    "Recovery",
    "RecoveryConfig",
    "RecoveryService",
]

_log = logging.getLogger(__name__)

#: How sessions that were ready when the daemon stopped come back (``--session-recovery``).
RESTART_MODES = ("eager", "lazy", "off")
#: How long shutdown waits for the recoveries under way.
CLOSE_WAIT_S = 5.0
#: The cause recorded for sessions rebuilt after a daemon restart.
RESTART_CAUSE = "the daemon restarted"
#: The status of a replay by how it ended (an ``ok`` original diverges on any other).
_STATUS = {
    OutcomeKind.OK: ExecutionStatus.OK,
    OutcomeKind.WALL_TIMEOUT: ExecutionStatus.TIMEOUT,
    OutcomeKind.CPU_TIMEOUT: ExecutionStatus.TIMEOUT,
    OutcomeKind.CANCELLED: ExecutionStatus.CANCELLED,
}
_UNDEFINED = {"type": "undefined", "preview": "undefined", "inspect": "undefined"}


@dataclass(frozen=True, slots=True)
class RecoveryConfig:
    """Daemon-wide bounds of recovery (see docs/configuration.md)."""

    #: After a daemon restart: ``eager`` (rebuild at once), ``lazy`` (on first use) or
    #: ``off`` (close them, as before durable sessions).
    restart: str = "eager"
    #: Sessions rebuilt at the same time.
    concurrency: int = 2
    #: More executions to replay than this: ``crashed`` instead.
    max_executions: int = 10_000
    #: More recorded run time to replay than this (seconds): ``crashed`` instead.
    max_replay_s: float = 60.0


@dataclass(frozen=True, slots=True)
class Recovery:
    """A session rebuilt: how many executions were replayed and which diverged."""

    session_id: str
    cause: str
    replayed: int
    diverged: list[Divergence] = field(default_factory=list)


class RecoveryService:
    """Rebuild sessions whose runtime was lost, on a bounded pool of threads."""

    def __init__(
        self,
        store: Store,
        sessions: SessionService,
        executions: ExecutionService,
        registry: RuntimeRegistry,
        lost: RuntimeLoss,
        config: RecoveryConfig | None = None,
    ) -> None:
        self.config = config or RecoveryConfig()
        self._store = store
        self._sessions = sessions
        self._executions = executions
        self._registry = registry
        self._pool = ThreadPoolExecutor(
            max_workers=max(self.config.concurrency, 1), thread_name_prefix="vm-recovery"
        )
        self._lock = threading.Lock()
        self._inflight: dict[str, Future[Recovery | None]] = {}
        #: Ready sessions without a runtime since the daemon started (rebuilt on first use).
        self._pending: set[str] = set()
        self._closed = False
        lost.keep = self.lost
        executions.revive = self.revive

    # ------------------------------------------------------------------ entry points
    def lost(self, session_id: str, cause: str) -> bool:
        """A ready session's runtime was lost: start rebuilding it in the background and
        return True, or return False (its policy is ``off``: the caller marks it crashed)."""
        row = self._store.get_session(session_id)
        if row is None or row.status is not SessionStatus.READY or self._closed:
            return False
        if row.template_snapshot.settings.recovery.policy == "off":
            return False
        self._store.update_session(session_id, status=SessionStatus.STARTING)
        self._submit(session_id, cause)
        return True

    def adopt(self, session_ids: Iterable[str], *, close_reason: str) -> int:
        """Sessions left ``ready`` by the previous daemon: close those whose policy is
        ``off`` (``last_error = close_reason``), then rebuild the others now (``eager``) or
        on first use (``lazy``). Returns how many are to be rebuilt."""
        kept = 0
        for session_id in session_ids:
            row = self._store.get_session(session_id)
            if row is None or row.status is not SessionStatus.READY:
                continue
            if row.template_snapshot.settings.recovery.policy == "off":
                self._sessions.close(session_id, reason=close_reason)
                continue
            kept += 1
            if self.config.restart == "eager":
                self._store.update_session(session_id, status=SessionStatus.STARTING)
                self._submit(session_id, RESTART_CAUSE)
            else:
                with self._lock:
                    self._pending.add(session_id)
        return kept

    def revive(self, session_id: str) -> LiveSession | None:
        """The runtime of a session that has none: wait for its recovery in progress, or
        rebuild now a session left ready by the previous daemon. None when there is none to
        wait for (the caller reports the session's status)."""
        with self._lock:
            future = self._inflight.get(session_id)
            pending = future is None and session_id in self._pending
        if future is None and pending:
            row = self._store.get_session(session_id)
            if row is None or row.status is not SessionStatus.READY:
                with self._lock:
                    self._pending.discard(session_id)
                return None
            future = self._submit(session_id, RESTART_CAUSE)
        if future is None:
            return None
        with contextlib.suppress(Exception):  # a failure is on the session (last_error)
            future.result(timeout=self.config.max_replay_s * 2 + 120)
        return self._registry.get(session_id)

    def relocate(self, session_id: str, cause: str, *, busy_timeout: float) -> Recovery | None:
        """Move a live session to another host by replay (a drain): wait up to
        ``busy_timeout`` seconds for its run in flight to end, let go of its runtime and
        rebuild it as after a loss, ``cause`` naming why (its policy applies: ``off`` leaves it
        ``crashed``). Executions sent meanwhile wait for the rebuild. Returns what was
        replayed; None when it was not live, stayed busy, or is ``crashed`` instead (its row
        says why). The host it leaves must take no new session (the caller drains it)."""
        live = self._registry.get(session_id)
        if live is None or self._closed:
            return None
        if not live.busy.acquire(timeout=busy_timeout):
            return None
        try:
            with self._sessions.locks.hold(session_id):
                if self._registry.get(session_id) is not live:
                    return None
                self._registry.pop(session_id)
                self._store.update_session(session_id, status=SessionStatus.STARTING)
                future = self._submit(session_id, cause)
        finally:
            live.busy.release()
        live.dispose()
        return future.result(timeout=self.config.max_replay_s * 2 + 120)

    def wait(self, session_id: str, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds) for a recovery of the session in progress."""
        with self._lock:
            future = self._inflight.get(session_id)
        if future is not None:
            with contextlib.suppress(Exception):
                future.result(timeout=timeout)

    def close(self, timeout: float = CLOSE_WAIT_S) -> None:
        """Start no more recoveries (the daemon stops) and give the ones running
        ``timeout`` seconds in all to finish; sessions not rebuilt stay ``ready`` for the
        next start."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + timeout
        with self._lock:
            running = list(self._inflight.values())
        for future in running:
            with contextlib.suppress(Exception):
                future.result(timeout=max(deadline - time.monotonic(), 0.0))

    def _submit(self, session_id: str, cause: str) -> Future[Recovery | None]:
        with self._lock:
            future = self._inflight.get(session_id)
            if future is not None:
                return future
            self._pending.discard(session_id)
            future = Future()
            self._inflight[session_id] = future
        try:
            task = self._pool.submit(self._run, session_id, cause, future)
        except RuntimeError:  # the pool is shut down: the daemon is stopping
            self._put_back(session_id)
            self._finish(session_id, future, None)
            return future

        def cancelled(task: Future[None]) -> None:
            if task.cancelled():  # the daemon stopped first: the next one rebuilds it
                self._put_back(session_id)
                self._finish(session_id, future, None)

        task.add_done_callback(cancelled)
        return future

    def _put_back(self, session_id: str) -> None:
        """Leave a session whose recovery did not happen ``ready`` for the next daemon."""
        try:
            row = self._store.get_session(session_id)
            if row is not None and row.status is SessionStatus.STARTING:
                self._store.update_session(session_id, status=SessionStatus.READY)
        except Exception:  # the store is closing
            _log.exception("could not keep session %s for the next start", session_id)

    def _finish(
        self, session_id: str, future: Future[Recovery | None], result: Recovery | None
    ) -> None:
        with self._lock:
            self._inflight.pop(session_id, None)
        future.set_result(result)

    def _run(self, session_id: str, cause: str, future: Future[Recovery | None]) -> None:
        result: Recovery | None = None
        try:
            result = self.recover(session_id, cause)
        except Exception:
            if self._closed:  # the store or the hosts closed under it: the daemon stopped
                _log.info("recovery of session %s stopped by the shutdown", session_id)
            else:
                _log.exception("recovery of session %s failed", session_id)
        finally:
            self._finish(session_id, future, result)

    # ------------------------------------------------------------------ recovery
    def recover(self, session_id: str, cause: str) -> Recovery | None:
        """Rebuild the session now (on this thread). Returns what was replayed, or None
        when it is ``crashed`` instead (its ``last_error`` says why) or no longer waits for
        a runtime (closed meanwhile)."""
        row = self._store.get_session(session_id)
        if row is None or row.status not in (SessionStatus.STARTING, SessionStatus.READY):
            return None
        policy = row.template_snapshot.settings.recovery.policy
        history = _since_restart(self._executions.history(session_id))
        refusal = self._refusal(policy, history)
        if refusal is not None:
            self._sessions.crash(session_id, f"runtime lost ({cause}); {refusal}")
            _log.warning("session not recovered", extra={"session_id": session_id})
            return None
        plan = [x for x in history if x.kind in REPLAYED and x.status is ExecutionStatus.OK]
        diverged: list[Divergence] = []

        def replay(live: LiveSession) -> None:
            for original in plan:
                reason = self._replay(live, original)
                if reason is not None:
                    diverged.append(Divergence(original.id, None, reason))
            self._store.update_session(session_id, recovered_at=utcnow())

        try:
            self._sessions.rebuild(session_id, replay)
        except SessionNotReady:  # closed meanwhile: nothing to rebuild
            return None
        except (VmError, EngineError) as exc:
            if self._closed:  # the daemon is stopping under it: the next start tries again
                self._put_back(session_id)
                return None
            reason = exc.message if isinstance(exc, VmError) else str(exc)
            self._sessions.crash(session_id, f"runtime lost ({cause}); recovery failed: {reason}")
            return None
        recovery = Recovery(session_id, cause, len(plan), diverged)
        self._executions.record_system(session_id, ExecutionKind.RECOVERY, _event(recovery))
        _log.info(
            "session recovered",
            extra={"session_id": session_id, "replayed": len(plan), "diverged": len(diverged)},
        )
        return recovery

    def _refusal(self, policy: str, history: list[Execution]) -> str | None:
        """Why the session is not rebuilt (its policy, the bounds), or None."""
        if policy == "off":
            return "not recovered: settings.recovery.policy is off"
        if policy == "replay_if_pure":
            for x in (x for x in history if x.kind in REPLAYED):
                effects = x.metrics.get("side_effects")
                if effects:
                    return (
                        f"not recovered: execution {x.id} called {', '.join(effects)} "
                        "(settings.recovery.policy is replay_if_pure)"
                    )
        plan = [x for x in history if x.kind in REPLAYED and x.status is ExecutionStatus.OK]
        limit = self.config.max_executions
        if len(plan) > limit:
            return (
                f"not recovered: {len(plan)} executions to replay, more than "
                f"--recovery-max-executions {limit}"
            )
        recorded_s = sum(float(x.metrics.get("duration_ms") or 0.0) for x in plan) / 1000
        if recorded_s > self.config.max_replay_s:
            return (
                f"not recovered: its executions ran {recorded_s:.1f} s in all, more than "
                f"--recovery-max-replay-s {self.config.max_replay_s:g}"
            )
        return None

    def _replay(self, live: LiveSession, original: Execution) -> str | None:
        """Run ``original`` again in ``live`` (unrecorded); why it diverged, or None.
        Raises StartupFailed if the runtime is lost again."""
        filename: str | None = None
        args: dict[str, Any] | None = None
        env: dict[str, str] | None = None
        if original.kind is ExecutionKind.REPL:
            code = original.input or ""
        else:
            try:
                filename, code = read_worktree_file(live.worktree, original.path or "")
            except VmError as exc:
                return f"not replayed: {exc.code}: {exc.message}"
            args, env = original.args, original.env
        console: list[Any] = []

        def sink(lines: list[tuple[str, str, float]]) -> None:
            console.extend(text for _level, text, _ms in lines)

        try:
            outcome = live.runtime.run(
                code, filename=filename, limits=live.limits, sink=sink, args=args, env=env
            )
        except EngineError as exc:
            raise StartupFailed(f"replay of {original.id} lost the runtime: {exc}") from exc
        if outcome.kind is OutcomeKind.LOST:
            raise StartupFailed(f"replay of {original.id} lost the runtime: {outcome.message}")
        return difference(
            original,
            _as_execution(original, outcome),
            lambda: console_texts(self._executions, original.id),
            lambda: console,
        )


def _since_restart(executions: Iterable[Execution]) -> list[Execution]:
    """The executions after the session's last restart (a restart starts from scratch)."""
    kept: list[Execution] = []
    for x in executions:
        if x.kind is ExecutionKind.RESTART:
            kept.clear()
        else:
            kept.append(x)
    return kept


def _as_execution(original: Execution, outcome: Outcome) -> Execution:
    """The replay as an execution, for the comparison with ``original``."""
    status = _STATUS.get(outcome.kind, ExecutionStatus.ERROR)
    result = (outcome.value or _UNDEFINED) if status is ExecutionStatus.OK else None
    return replace(original, status=status, result=result)


def _event(recovery: Recovery) -> dict[str, Any]:
    """The ``system`` event of a recovery."""
    n = len(recovery.diverged)
    message = (
        f"session recovered after its runtime was lost ({recovery.cause}): "
        f"{recovery.replayed} execution(s) replayed, {n} diverged"
    )
    return {
        "level": "warning" if n else "info",
        "code": "SESSION_RECOVERED",
        "message": message,
        "cause": recovery.cause,
        "replayed": recovery.replayed,
        "diverged": [{"execution_id": d.original, "reason": d.reason} for d in recovery.diverged],
    }
