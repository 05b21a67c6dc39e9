"""ExecutionService: REPL snippets and file runs inside live sessions, and their records.

The service is its two halves over one set of running executions: the
:class:`~vmsystem.core.runner.ExecutionRunner` (start, record, announce, cancel) and the
:class:`~vmsystem.core.reader.ExecutionReader` (get, list, events, history, search, follow).
"""

from __future__ import annotations

from concurrent.futures import Executor

from vmsystem.core.awaited import AwaitedRuns
from vmsystem.core.events import EventBus
from vmsystem.core.lost import RuntimeLoss
from vmsystem.core.reader import MAX_EVENTS_PAGE, MAX_EXECUTIONS_PAGE, ExecutionReader
from vmsystem.core.registry import RuntimeRegistry
from vmsystem.core.runner import ExecutionRunner
from vmsystem.core.runs import ActiveRuns, RunRequest
from vmsystem.store import Store

__all__ = [
    "MAX_EVENTS_PAGE",
    "MAX_EXECUTIONS_PAGE",
    "ExecutionReader",
    "ExecutionRunner",
    "ExecutionService",
    "RunRequest",
]


class ExecutionService(ExecutionRunner, ExecutionReader):
    """Run code in sessions, cancel it, and read executions and their events."""

    def __init__(
        self,
        store: Store,
        bus: EventBus,
        registry: RuntimeRegistry,
        executor: Executor,
        lost: RuntimeLoss,
    ) -> None:
        active = ActiveRuns()
        ExecutionReader.__init__(self, store, bus, registry, active)
        ExecutionRunner.__init__(self, store, bus, registry, executor, active, self, lost)
        #: The same runs awaited on the event loop (the HTTP layer's path).
        self.awaited = AwaitedRuns(self, store)
