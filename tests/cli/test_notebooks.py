"""``session export`` and ``session run-notebook``: local input errors, before any request
(the commands against a real daemon: tests/e2e/test_notebooks.py)."""

from __future__ import annotations

from pathlib import Path

from .conftest import Run
from .fake_daemon import FakeDaemon

SID = "00000000-0000-4000-8000-000000000001"


def test_run_notebook_refuses_a_file_that_is_not_json(
    run: Run, daemon: FakeDaemon, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    result = run("session", "run-notebook", SID, str(bad))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {bad} is not a JSON notebook")
    assert daemon.requests == []


def test_run_notebook_names_a_missing_file(run: Run, daemon: FakeDaemon, tmp_path: Path) -> None:
    result = run("session", "run-notebook", SID, str(tmp_path / "none.ipynb"))
    assert result.exit_code == 1
    assert "Error: cannot read" in result.stderr
    assert daemon.requests == []


def test_export_refuses_an_unknown_format_locally(run: Run, daemon: FakeDaemon) -> None:
    result = run("session", "export", SID, "--format", "pdf")
    assert result.exit_code == 2
    assert "pdf" in result.stderr
    assert daemon.requests == []
