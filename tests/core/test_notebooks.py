"""Exports (ipynb, md, jsonl) and notebooks run in sessions, on the real engine and store."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import nbformat
import orjson
import pytest

from vmsystem.core import VmSystem
from vmsystem.core.errors import SessionNotFound, ValidationError
from vmsystem.core.executions import MAX_EXECUTIONS_PAGE


def _session(vm: VmSystem, worktree: Path, **limits: int) -> str:
    template = vm.templates.create(f"t-{time.monotonic_ns()}")
    if limits:
        vm.templates.update(template.id, settings={"limits": limits})
    return vm.sessions.create(template.id, str(worktree)).id


def _valid(nb: dict[str, Any]) -> Any:
    node = nbformat.from_dict(orjson.loads(orjson.dumps(nb)))
    nbformat.validate(node)
    return node


def _body(vm: VmSystem, sid: str, fmt: str) -> bytes:
    return b"".join(vm.exports.export(sid, fmt).chunks)


def _history(vm: VmSystem, worktree: Path) -> str:
    (worktree / "job.js").write_text("console.log('from file'); 7")
    sid = _session(vm, worktree, wall_ms=300, cpu_ms=300)
    vm.executions.repl(sid, "console.log('hi'); console.warn('careful'); ({a: 1, b: [2]})")
    vm.executions.repl(sid, "function f() { throw new TypeError('bad') }\nf()")
    vm.executions.repl(sid, "while (true) {}")
    vm.executions.repl(sid, "console.info('side effect')")
    vm.executions.run_file(sid, "job.js")
    return sid


def test_ipynb_export_is_valid_with_streams_results_and_errors(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _history(vm, worktree)
    nb = _valid(orjson.loads(_body(vm, sid, "ipynb")))
    assert nb.nbformat == 4
    assert nb.metadata.kernelspec.language == "javascript"
    assert nb.metadata.language_info.name == "javascript"
    cells = nb.cells
    assert [c.cell_type for c in cells] == ["code"] * 5
    assert [c.execution_count for c in cells] == [1, 2, 3, 4, 5]
    first = cells[0]
    assert first.source.startswith("console.log('hi')")
    assert [o.output_type for o in first.outputs] == ["stream", "stream", "execute_result"]
    assert (first.outputs[0].name, first.outputs[0].text) == ("stdout", "hi\n")
    assert (first.outputs[1].name, first.outputs[1].text) == ("stderr", "careful\n")
    assert first.outputs[2].data["application/json"] == {"a": 1, "b": [2]}
    assert first.outputs[2].data["text/plain"]
    assert first.metadata.vmsystem.status == "ok"
    error = cells[1].outputs[0]
    assert (error.output_type, error.ename, error.evalue) == ("error", "TypeError", "bad")
    assert error.traceback[0] == "TypeError: bad"
    timeout = cells[2].outputs[0]
    assert timeout.output_type == "error"
    assert timeout.ename in ("WALL_TIME_EXCEEDED", "CPU_TIME_EXCEEDED")
    assert cells[2].metadata.vmsystem.status == "timeout"
    assert [o.output_type for o in cells[3].outputs] == ["stream"]  # undefined: no result
    assert cells[4].source == "// vm-system run-file: job.js"
    assert cells[4].outputs[0].text == "from file\n"
    assert cells[4].outputs[1].data["text/plain"] == "7"
    ids = [x.id for x in vm.executions.history(sid)]
    assert [c.metadata.vmsystem.execution_id for c in cells] == ids


def test_an_unhandled_rejection_exports_the_inputs_result_then_the_error(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _session(vm, worktree)
    vm.executions.repl(sid, "console.log('before'); Promise.reject(new Error('lost')); 5")
    (cell,) = _valid(vm.notebooks.notebook(sid)).cells
    assert [o.output_type for o in cell.outputs] == ["stream", "execute_result", "error"]
    assert cell.outputs[1].data["text/plain"] == "5"
    assert (cell.outputs[2].ename, cell.outputs[2].evalue) == ("Error", "lost")
    assert cell.metadata.vmsystem.status == "error"


def test_ipynb_export_caps_cells_and_says_how_many_were_left_out(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _session(vm, worktree)
    for n in range(4):
        vm.executions.repl(sid, f"{n}")
    nb = _valid(vm.notebooks.notebook(sid, max_cells=2))
    assert [c.cell_type for c in nb.cells] == ["code", "code", "markdown"]
    assert "2 later executions" in nb.cells[2].source


def test_jsonl_export_has_one_execution_a_line_with_its_events(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _history(vm, worktree)
    lines = [orjson.loads(line) for line in _body(vm, sid, "jsonl").splitlines()]
    assert [x["id"] for x in lines] == [x.id for x in vm.executions.history(sid)]
    assert [e["type"] for e in lines[0]["events"]] == [
        "input_echo",
        "console",
        "console",
        "value",
    ]
    assert [e["seq"] for e in lines[0]["events"]] == [1, 2, 3, 4]


def test_markdown_export_is_a_transcript_with_inputs_console_results_and_errors(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _history(vm, worktree)
    text = _body(vm, sid, "md").decode()
    assert text.startswith(f"# Session {sid}\n")
    assert "```js\nconsole.log('hi'); console.warn('careful'); ({a: 1, b: [2]})\n```" in text
    assert "[log] hi\n[warn] careful" in text
    assert "TypeError: bad" in text
    assert "TIME_EXCEEDED" in text
    assert "## 5. run_file `job.js` · ok" in text
    assert "started 20" in text


def test_markdown_fences_are_longer_than_backticks_in_the_input(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _session(vm, worktree)
    vm.executions.repl(sid, "'```'")
    assert "````js\n'```'\n````" in _body(vm, sid, "md").decode()


def test_export_history_pages_through_more_than_one_page(vm: VmSystem, worktree: Path) -> None:
    sid = _session(vm, worktree)
    for n in range(7):
        vm.executions.repl(sid, f"{n}")
    history = list(vm.executions.history(sid, page=3))
    assert [x.input for x in history] == [str(n) for n in range(7)]
    assert [x.ordinal for x in history] == list(range(1, 8))  # the order, even in one ms


def test_jsonl_export_holds_more_executions_than_the_list_cap(vm: VmSystem, worktree: Path) -> None:
    sid = _session(vm, worktree)
    count = MAX_EXECUTIONS_PAGE + 5
    for n in range(count):
        vm.executions.repl(sid, f"{n}")
    lines = _body(vm, sid, "jsonl").splitlines()
    assert [orjson.loads(line)["input"] for line in lines] == [str(n) for n in range(count)]


def test_export_refuses_unknown_formats_and_sessions(vm: VmSystem, worktree: Path) -> None:
    sid = _session(vm, worktree)
    with pytest.raises(ValidationError):
        vm.exports.export(sid, "pdf")
    with pytest.raises(SessionNotFound):
        vm.exports.export("00000000-0000-0000-0000-000000000000", "md")


def _notebook(*sources: str) -> dict[str, Any]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# title")] + [
        nbformat.v4.new_code_cell(s) for s in sources
    ]
    return dict(orjson.loads(orjson.dumps(nb)))


def test_run_notebook_fills_outputs_and_stops_at_the_first_error(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _session(vm, worktree)
    ran = _valid(
        vm.notebooks.run(sid, _notebook("let x = 40", "x + 2", "throw new Error('no')", "x"))
    )
    code = ran.cells[1:]
    assert [c.execution_count for c in code] == [1, 2, 3, None]
    assert code[1].outputs[0].data["text/plain"] == "42"
    assert code[2].outputs[0].ename == "Error"
    assert code[3].metadata.vmsystem.status == "skipped"
    assert code[3].outputs == []
    assert ran.metadata.vmsystem.executed == 3
    ids = [x.id for x in vm.executions.history(sid)]
    assert [c.metadata.vmsystem.execution_id for c in code[:3]] == ids


def test_run_notebook_continues_on_error_when_asked(vm: VmSystem, worktree: Path) -> None:
    sid = _session(vm, worktree)
    nb = _notebook("throw new Error('no')", "", "1 + 1")
    ran = _valid(vm.notebooks.run(sid, nb, continue_on_error=True))
    code = ran.cells[1:]
    assert [c.execution_count for c in code] == [1, None, 2]
    assert code[2].outputs[0].data["application/json"] == 2
    assert ran.metadata.vmsystem.failed == 1


def test_run_notebook_refuses_an_invalid_notebook(vm: VmSystem, worktree: Path) -> None:
    sid = _session(vm, worktree)
    bad = _notebook("1")
    bad["cells"][1]["cell_type"] = "banana"
    with pytest.raises(ValidationError, match="invalid notebook"):
        vm.notebooks.run(sid, bad)
    with pytest.raises(ValidationError):
        vm.notebooks.run(sid, {"hello": 1})
    assert list(vm.executions.history(sid)) == []


def test_run_notebook_takes_v45_cells_without_ids_and_upgrades_v3(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _session(vm, worktree)
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None}
    no_ids = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [{**cell, "source": "1"}],
    }
    v3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {},
        "worksheets": [
            {
                "metadata": {},
                "cells": [
                    {"cell_type": "code", "input": "3 * 3", "language": "javascript", "outputs": []}
                ],
            }
        ],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nbformat warns about missing ids before refusing them
        ran = _valid(vm.notebooks.run(sid, no_ids))
        upgraded = _valid(vm.notebooks.run(sid, v3))
    assert ran.cells[0].outputs[0].data["application/json"] == 1
    assert upgraded.nbformat == 4
    assert upgraded.cells[0].outputs[0].data["application/json"] == 9


def test_display_bundles_export_as_display_data_in_order_and_as_text_in_markdown(
    vm: VmSystem, worktree: Path
) -> None:
    sid = _session(vm, worktree)
    vm.executions.repl(
        sid,
        "console.log('before'); display({'image/svg+xml': '<svg/>', 'text/plain': 'chart'});"
        " console.log('after');"
        " ({[Symbol.for('Jupyter.display')]() { return {'text/html': '<b>x</b>'} }})",
    )
    nb = _valid(orjson.loads(_body(vm, sid, "ipynb")))
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == [
        "stream",
        "display_data",
        "stream",
        "execute_result",
    ]
    assert outputs[1].data == {"image/svg+xml": "<svg/>", "text/plain": "chart"}
    assert outputs[3].data["text/html"] == "<b>x</b>"
    markdown = _body(vm, sid, "md").decode()
    assert "[display] chart" in markdown
