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


def test_quick_hosts_run_measures_the_backends_side_by_side(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "hosts", "--output", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "latest.json").read_text())
    assert report["summary"]["errors"] == {}
    rows = {r["name"]: r for r in report["results"]}
    for name in (
        "hosts_repl_http_p50_process",
        "hosts_throughput_c16_process",
        "hosts_session_create_p50_process",
        "hosts_memory_idle_process",
        "hosts_memory_idle_process_pss",
        "hosts_host_cpu_per_run",
        "hosts_daemon_switches_per_run",
        "hosts_death_to_serving",
    ):
        assert rows[name]["value"] > 0 and rows[name]["passed"] in (True, False), name
    assert rows["hosts_repl_http_p50_process"]["target"] == "ratio <= 1.25"
    death = rows["hosts_death_to_crashed"]["details"]["repeats"]
    assert death and all(r["on_restarted_host"] for r in death)
    # Ray's local cluster is too slow to start for a quick run: its rows say so.
    ray = rows["hosts_repl_http_p50_ray"]
    assert ray["value"] is None and "skipped in --quick" in ray["description"]


def test_quick_search_run_reports_the_search_figure(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "search", "--output", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((tmp_path / "latest.json").read_text())
    (row,) = report["results"]
    assert row["name"] == "search_p50_3k" and row["unit"] == "ms" and row["value"] > 0
    assert row["target"] == "<= 50 ms"
    assert row["details"]["executions"] == 3000
    assert row["details"]["queries_with_hits"] == 1.0
    assert report["summary"]["errors"] == {}
