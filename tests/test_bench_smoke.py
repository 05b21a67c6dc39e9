"""The benchmark runner stays runnable: a --quick run of one small measurement writes the
JSON report with the expected shape. No timed assertions (figures belong to ``make bench``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_inprocess_run_writes_the_json_report(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--only",
            "repl_inprocess",
            "--output",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "repl_inprocess_p50" in proc.stdout  # the table was printed
    report = json.loads((tmp_path / "latest.json").read_text())
    assert {"started_at", "duration_s", "quick", "only", "machine", "results", "summary"} <= (
        report.keys()
    )
    assert report["quick"] is True and report["only"] == ["repl_inprocess"]
    assert {"nproc", "cpu_model", "python"} <= report["machine"].keys()
    rows = {r["name"]: r for r in report["results"]}
    assert {"repl_inprocess_p50", "repl_inprocess_p99"} <= rows.keys()
    row = rows["repl_inprocess_p50"]
    assert {"value", "unit", "baseline", "ratio", "target", "passed", "details"} <= row.keys()
    assert row["unit"] == "ms" and row["value"] > 0
    assert row["target"] == "<= 0.6 ms" and row["passed"] in (True, False)
    assert report["summary"]["errors"] == {}
    assert len(list(tmp_path.glob("*.json"))) == 2  # <timestamp>.json and latest.json


def test_unknown_measurement_is_refused() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "unknown measurement" in proc.stderr
