"""Jupyter notebooks (nbformat v4, JavaScript) from session histories, and notebooks run in
sessions like papermill.

A REPL execution is a code cell: its console lines are ``stream`` outputs (stdout for
log/info/debug and the rest, stderr for warn/error), its value an ``execute_result``
(``text/plain`` from the value's ``inspect`` or ``preview``, ``application/json`` when it has
``json``; none for ``undefined``), its error an ``error`` output. A run-file or startup
execution is a code cell whose source is a comment naming the file (the file's text is not
kept), with the same outputs; a restart, a recovery or an idle close is a markdown cell. Each
cell's metadata carries ``vmsystem: {execution_id, kind, status, ...}``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from importlib import import_module
from typing import Any

from vmsystem.core.errors import OutputLimitExceeded, ValidationError, VmError
from vmsystem.core.executions import ExecutionService
from vmsystem.core.ids import utcnow
from vmsystem.core.sessions import SessionService
from vmsystem.models import Event, EventType, Execution, ExecutionKind, ExecutionStatus, Session

__all__ = [
    "MAX_NOTEBOOK_CELLS",
    "NotebookService",
    "error_output",
    "execution_cell",
    "new_notebook",
]

#: An exported ``.ipynb`` is built in memory: it holds at most this many executions (the
#: oldest) and ends with a markdown cell saying how many were left out (``jsonl`` and ``md``
#: stream any number).
MAX_NOTEBOOK_CELLS = 5000


def _nbf() -> Any:
    """nbformat (untyped: called through ``Any``), imported on first use: with jsonschema it
    is about 20 MiB of a daemon that may never export or run a notebook."""
    return import_module("nbformat")


#: A notebook, cell or output. Exports build plain dicts in the v4 schema rather than with
#: ``nbformat.v4.new_*`` (which validates every cell and output: 2.5 ms an execution); the
#: tests validate the result with ``nbformat.validate``.
Node = dict[str, Any]

_STDERR_LEVELS = frozenset({"warn", "error"})

KERNELSPEC = {
    "name": "javascript",
    "display_name": "JavaScript (vm-system)",
    "language": "javascript",
}


def _iso(value: datetime) -> str:
    """RFC 3339 UTC with milliseconds, as the API writes timestamps."""
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def language_info(engine_version: str | None = None) -> dict[str, Any]:
    """The notebook's ``language_info`` for JavaScript."""
    info: dict[str, Any] = {
        "name": "javascript",
        "file_extension": ".js",
        "mimetype": "application/javascript",
        "codemirror_mode": "javascript",
    }
    if engine_version:
        info["version"] = engine_version
    return info


def new_notebook(session: Session, engine_version: str | None = None) -> Node:
    """An empty v4 notebook with JavaScript metadata naming ``session``."""
    nb: Node = {
        "nbformat": _nbf().v4.nbformat,
        "nbformat_minor": _nbf().v4.nbformat_minor,
        "metadata": {},
        "cells": [],
    }
    nb["metadata"]["kernelspec"] = dict(KERNELSPEC)
    nb["metadata"]["language_info"] = language_info(engine_version)
    nb["metadata"]["vmsystem"] = {
        "session_id": session.id,
        "template_id": session.template_id,
        "exported_at": _iso(utcnow()),
    }
    return nb


def markdown_cell(text: str, *, cell_id: str | None = None) -> Node:
    """A markdown cell (its id: the execution's, or a fresh one)."""
    return {
        "cell_type": "markdown",
        "id": cell_id or uuid.uuid4().hex[:16],
        "metadata": {},
        "source": text,
    }


def _merge_streams(lines: Iterable[tuple[str, str]]) -> Iterator[dict[str, Any]]:
    """Consecutive lines of one stream as one ``stream`` output (as Jupyter shows them)."""
    name: str | None = None
    texts: list[str] = []
    for stream, text in lines:
        if stream != name and texts:
            yield {"output_type": "stream", "name": name, "text": "".join(texts)}
            texts = []
        name = stream
        texts.append(text if text.endswith("\n") else text + "\n")
    if texts:
        yield {"output_type": "stream", "name": name, "text": "".join(texts)}


def value_output(value: dict[str, Any], execution_count: int | None) -> dict[str, Any] | None:
    """The ``execute_result`` of a value payload; ``None`` for ``undefined``."""
    if value.get("type") == "undefined":
        return None
    data: dict[str, Any] = {"text/plain": str(value.get("inspect") or value.get("preview", ""))}
    if "json" in value:
        data["application/json"] = value["json"]
    data.update(value.get("display") or {})
    return {
        "output_type": "execute_result",
        "execution_count": execution_count,
        "data": data,
        "metadata": {},
    }


def display_output(payload: dict[str, Any]) -> dict[str, Any]:
    """The ``display_data`` output of a ``display`` event."""
    return {
        "output_type": "display_data",
        "data": dict(payload.get("data") or {}),
        "metadata": dict(payload.get("metadata") or {}),
    }


def error_output(error: dict[str, Any]) -> dict[str, Any]:
    """The ``error`` output of an exception payload or of a system code/message."""
    if "code" in error:
        ename, evalue = str(error["code"]), str(error.get("message", ""))
        traceback = [f"{ename}: {evalue}"]
    else:
        ename, evalue = str(error.get("name", "Error")), str(error.get("message", ""))
        stack = error.get("stack")
        traceback = str(stack).split("\n") if stack else [f"{ename}: {evalue}"]
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": traceback}


def outputs_of(
    execution: Execution, events: Iterable[Event], execution_count: int | None
) -> list[dict[str, Any]]:
    """The outputs of one execution from its events, in order: console lines as ``stream``
    outputs, ``display()`` bundles as ``display_data``, then the value or the error (after
    the input's own result when the error is an unhandled rejection that surfaced after it)."""
    outputs: list[dict[str, Any]] = []
    console: list[tuple[str, str]] = []
    tail: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    for event in events:
        if event.type is EventType.CONSOLE:
            level = str(event.payload.get("level", "log"))
            stream = "stderr" if level in _STDERR_LEVELS else "stdout"
            console.append((stream, str(event.payload.get("text", ""))))
        elif event.type is EventType.DISPLAY:
            outputs.extend(_merge_streams(console))
            console = []
            outputs.append(display_output(event.payload))
        elif event.type is EventType.VALUE:
            tail = value_output(event.payload, execution_count)
        elif event.type is EventType.EXCEPTION or (
            event.type is EventType.SYSTEM and event.payload.get("level") == "error"
        ):
            tail = error_output(event.payload)
            shown = event.payload.get("result") if event.type is EventType.EXCEPTION else None
            result = value_output(shown, execution_count) if isinstance(shown, dict) else None
    outputs.extend(_merge_streams(console))
    if result is not None:
        outputs.append(result)
    if tail is None and execution.status is not ExecutionStatus.OK and execution.error:
        tail = error_output(execution.error)  # a run whose terminal event is missing
    if tail is not None:
        outputs.append(tail)
    return outputs


def _cell_metadata(execution: Execution) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "execution_id": execution.id,
        "kind": execution.kind.value,
        "status": execution.status.value,
        "started_at": _iso(execution.started_at),
    }
    if execution.path is not None:
        meta["path"] = execution.path
    if execution.metrics.get("duration_ms") is not None:
        meta["duration_ms"] = execution.metrics["duration_ms"]
    return meta


#: Executions without code (a markdown cell each) and what happened to the session.
_SYSTEM_KINDS = {
    ExecutionKind.RESTART: "restarted",
    ExecutionKind.RECOVERY: "recovered",
    ExecutionKind.CLOSE: "closed",
}


def execution_cell(execution: Execution, events: Iterable[Event], execution_count: int) -> Node:
    """The notebook cell of one execution (see the module's docstring)."""
    if execution.kind in _SYSTEM_KINDS:
        messages = [str(e.payload.get("message", "")) for e in events if e.type is EventType.SYSTEM]
        what = _SYSTEM_KINDS[execution.kind]
        text = f"*Session {what}*" + (f": {messages[0]}" if messages and messages[0] else "")
        cell: Node = markdown_cell(text, cell_id=execution.id)
        cell["metadata"]["vmsystem"] = _cell_metadata(execution)
        return cell
    if execution.kind is ExecutionKind.REPL and execution.input is not None:
        source = execution.input
    else:
        what = "startup file" if execution.kind is ExecutionKind.STARTUP else "run-file"
        source = f"// vm-system {what}: {execution.path or execution.input or ''}"
        if execution.args:
            source += f"\n// args: {execution.args}"
    cell = {
        "cell_type": "code",
        "id": execution.id,
        "execution_count": execution_count,
        "metadata": {},
        "outputs": [],
        "source": source,
    }
    cell["outputs"] = outputs_of(execution, events, execution_count)
    cell["metadata"]["vmsystem"] = _cell_metadata(execution)
    return cell


def _source(cell: Any) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


class NotebookService:
    """Build a session's notebook and run notebooks in sessions."""

    def __init__(
        self,
        sessions: SessionService,
        executions: ExecutionService,
        engine_version: Callable[[], str | None] = lambda: None,
    ) -> None:
        """``engine_version()``: the hosts' engine version, asked when a notebook is built."""
        self._sessions = sessions
        self._executions = executions
        self._engine_version = engine_version

    def notebook(self, session_id: str, *, max_cells: int = MAX_NOTEBOOK_CELLS) -> dict[str, Any]:
        """A session's history as an nbformat v4 notebook (at most ``max_cells`` executions;
        the rest is named in a last markdown cell). SESSION_NOT_FOUND for an unknown id."""
        session = self._sessions.get(session_id)
        nb = new_notebook(session, self._engine_version())
        count = 0
        left_out = 0
        for execution in self._executions.history(session.id):
            if len(nb["cells"]) >= max_cells:
                left_out += 1
                continue
            cell = execution_cell(
                execution, list(self._executions.all_events(execution.id)), count + 1
            )
            if cell["cell_type"] == "code":
                count += 1
            nb["cells"].append(cell)
        if left_out:
            nb["cells"].append(
                markdown_cell(
                    f"*{left_out} later executions are not in this notebook (at most "
                    f"{max_cells} cells): export the session as jsonl or md for all of them.*"
                )
            )
        return dict(nb)

    def run(
        self, session_id: str, notebook: Any, *, continue_on_error: bool = False
    ) -> dict[str, Any]:
        """Run a notebook's code cells in order as REPL executions in a session, like
        papermill: outputs are replaced, ``execution_count`` set and each cell's metadata
        gets ``vmsystem.execution_id``; it stops at the first failed cell unless
        ``continue_on_error`` (later cells are left unexecuted, ``vmsystem.status: skipped``).

        VALIDATION_ERROR when ``notebook`` is not a valid notebook (nbformat's message);
        an error of the session itself (not found, not ready, busy) on the first cell is
        raised; later, it stops the run and is recorded in the notebook's
        ``metadata.vmsystem.stopped``.
        """
        nb = parse_notebook(notebook)
        session = self._sessions.get(session_id)
        nb["metadata"].setdefault("kernelspec", dict(KERNELSPEC))
        nb["metadata"].setdefault("language_info", language_info(self._engine_version()))
        summary: dict[str, Any] = {
            "session_id": session.id,
            "run_at": _iso(utcnow()),
        }
        code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
        for cell in code_cells:
            cell["outputs"] = []
            cell["execution_count"] = None
            cell["metadata"]["vmsystem"] = {"status": "skipped"}
        count = 0
        failed = 0
        stopped = False
        for cell in code_cells:
            source = _source(cell)
            if stopped:
                break
            if not source.strip():
                cell["metadata"]["vmsystem"] = {"status": "empty"}
                continue
            try:
                execution = self._executions.repl(session.id, source)
            except OutputLimitExceeded as exc:
                if exc.execution is None:
                    raise
                execution = exc.execution
            except VmError as exc:
                if count == 0 and failed == 0:
                    raise
                summary["stopped"] = {"code": exc.code, "message": str(exc)}
                break
            count += 1
            events = list(self._executions.all_events(execution.id))
            filled = execution_cell(execution, events, count)
            cell["outputs"] = filled["outputs"]
            cell["execution_count"] = count
            cell["metadata"]["vmsystem"] = filled["metadata"]["vmsystem"]
            if execution.status is not ExecutionStatus.OK:
                failed += 1
                stopped = not continue_on_error
        summary["executed"] = count
        summary["failed"] = failed
        nb["metadata"]["vmsystem"] = summary  # set last: a NotebookNode copies what it is given
        return dict(nb)


def _with_cell_ids(notebook: dict[str, Any]) -> dict[str, Any]:
    """The notebook with an id on each cell that lacks one, when its version (v4.5 and
    later) requires them: nbformat adds them itself with a warning, and will refuse them."""
    cells = notebook.get("cells")
    minor = notebook.get("nbformat_minor")
    if notebook.get("nbformat") != 4 or not isinstance(minor, int) or minor < 5:
        return notebook
    if not isinstance(cells, list) or all(not isinstance(c, dict) or "id" in c for c in cells):
        return notebook
    fixed = [
        {**c, "id": uuid.uuid4().hex[:16]} if isinstance(c, dict) and "id" not in c else c
        for c in cells
    ]
    return {**notebook, "cells": fixed}


def parse_notebook(notebook: Any) -> Node:
    """A notebook given as a JSON object, validated by nbformat (older v4 minor versions and
    v3 are upgraded to the current v4); VALIDATION_ERROR with the validator's message."""
    if not isinstance(notebook, dict):
        raise ValidationError("notebook must be a JSON object (an .ipynb)")
    if "cells" not in notebook and "worksheets" not in notebook:
        raise ValidationError("notebook is not an .ipynb: it has no 'cells'")
    nbf = _nbf()
    try:
        nb: Node = nbf.from_dict(_with_cell_ids(notebook))
        nbf.validate(nb)
        nb = nbf.convert(nb, 4)
    except nbf.ValidationError as exc:
        raise ValidationError(f"invalid notebook: {exc.message}") from None
    except Exception as exc:  # nbformat raises plain errors for unknown versions
        raise ValidationError(f"invalid notebook: {exc}") from None
    return nb
