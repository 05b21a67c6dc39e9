"""Run the measurements, print the table and write bench/results/<timestamp>.json."""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import orjson

from bench.context import Bench, Row
from bench.measures import MEASURES
from bench.servers import HOST_BACKENDS

__all__ = ["main"]

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine_info() -> dict[str, Any]:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    node = shutil.which("node")
    node_version = None
    if node:
        node_version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
    from vmsystem import __version__

    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "node": node_version,
        "vm_system": __version__,
        "loadavg_start": list(os.getloadavg()),
    }


def _fmt(x: float | None, unit: str = "") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    text = f"{x:.3f}" if abs(x) < 10 else f"{x:.1f}" if abs(x) < 1000 else f"{x:.0f}"
    return f"{text} {unit}".strip()


def render_table(rows: list[Row]) -> str:
    header = ("measurement", "value", "baseline", "ratio", "target", "result")
    lines = [header]
    for r in rows:
        base_unit = r.unit if r.baseline is not None else ""
        passed = {True: "PASS", False: "FAIL", None: "-"}[r.passed]
        lines.append(
            (
                r.name,
                _fmt(r.value, r.unit),
                _fmt(r.baseline, base_unit),
                _fmt(r.ratio) if r.ratio is not None else "-",
                str(r.target) if r.target else "-",
                passed,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for i, line in enumerate(lines):
        out.append("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def derived_rows(b: Bench) -> list[Row]:
    """The HTTP overhead: daemon p50 over HTTP minus the in-process core call."""
    c = b.results_cache
    if {"repl_http_p50", "repl_inprocess_p50", "bare_http_p50"} <= c.keys():
        return [
            Row(
                "repl_http_overhead_p50",
                "HTTP p50 minus in-process core p50 (baseline: bare endpoint p50)",
                c["repl_http_p50"] - c["repl_inprocess_p50"],
                "ms",
                c["bare_http_p50"],
                "bare endpoint p50",
            )
        ]
    return []


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="vm-system benchmarks (SPEC section 10)."
    )
    parser.add_argument("--quick", action="store_true", help="few repeats: a smoke run")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help=f"run only these measurements (repeat or comma-separate): {', '.join(MEASURES)}",
    )
    parser.add_argument(
        "--hosts",
        choices=HOST_BACKENDS,
        default="inprocess",
        help="the daemon's --hosts backend for every measurement but `hosts` (which runs "
        "them side by side); default inprocess, to keep the history comparable",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=RESULTS_DIR,
        help="directory for <timestamp>.json and latest.json (default bench/results)",
    )
    args = parser.parse_args(argv)
    only = [n.strip() for item in args.only for n in item.split(",") if n.strip()]
    unknown = [n for n in only if n not in MEASURES]
    if unknown:
        parser.error(f"unknown measurement(s) {', '.join(unknown)}; known: {', '.join(MEASURES)}")
    args.only = only
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = args.only or list(MEASURES)
    started = time.monotonic()
    started_at = dt.datetime.now(dt.UTC)
    info = machine_info()
    rows: list[Row] = []
    errors: dict[str, str] = {}
    timings: dict[str, float] = {}
    print(
        f"vm-system bench ({'quick' if args.quick else 'full'}): {', '.join(names)}\n"
        f"machine: {info['nproc']} x {info['cpu_model']}, Python {info['python']}, "
        f"node {info['node']}, load {info['loadavg_start'][0]:.2f}; "
        f"daemon --hosts {args.hosts}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="vmsystem-bench-") as tmp:
        bench = Bench(Path(tmp), quick=args.quick, hosts=args.hosts)
        try:
            for name in names:
                t0 = time.monotonic()
                print(f"  {name} ...", end="", flush=True)
                try:
                    rows.extend(MEASURES[name].run(bench))
                except Exception as exc:  # report and go on with the others
                    errors[name] = f"{type(exc).__name__}: {exc}"
                    traceback.print_exc()
                timings[name] = round(time.monotonic() - t0, 2)
                print(f" {timings[name]:.1f} s", flush=True)
            rows.extend(derived_rows(bench))
        finally:
            bench.close()
    elapsed = time.monotonic() - started
    info["loadavg_end"] = list(os.getloadavg())
    print()
    print(render_table(rows))
    failed = [r.name for r in rows if r.passed is False]
    passed = [r.name for r in rows if r.passed is True]
    print(
        f"\n{len(passed)} target(s) met, {len(failed)} missed"
        + (f" ({', '.join(failed)})" if failed else "")
        + (f"; {len(errors)} measurement(s) failed: {', '.join(errors)}" if errors else "")
        + f"; total {elapsed:.1f} s"
    )
    report = {
        "started_at": started_at.isoformat(),
        "duration_s": round(elapsed, 2),
        "quick": args.quick,
        "only": args.only,
        "daemon_hosts": args.hosts,
        "machine": info,
        "timings_s": timings,
        "results": [r.to_json() for r in rows],
        "summary": {"passed": passed, "failed": failed, "errors": errors},
    }
    out_dir: Path = args.output
    out_dir.mkdir(parents=True, exist_ok=True)
    data = orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY)
    stamp = started_at.strftime("%Y%m%dT%H%M%SZ")
    (out_dir / f"{stamp}.json").write_bytes(data)
    (out_dir / "latest.json").write_bytes(data)
    print(f"results: {out_dir / f'{stamp}.json'}", file=sys.stderr)
    return 1 if errors else 0
