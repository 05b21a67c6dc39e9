"""The soak: ``python -m bench.soak [--duration 300] [--clients 16] [--hosts process]``.

Starts a daemon, then ``--clients`` clients, each with a session of its own, send a mix of runs
for ``--duration`` seconds: ``k + 1`` on a counter the session keeps (its value proves the
session kept its state), console output, thrown errors, memory bombs (one allocation past
``mem_mb``), endless loops stopped by the wall limit, output floods stopped by the output
limit, and long runs the client cancels. Every minute or so a client restarts or closes and
replaces its session. The daemon's memory is sampled every few seconds.

The report (printed, and written as JSON with ``--out``) says whether the daemon held:

- ``http_5xx``: answers with a 5xx status (must be 0);
- ``spurious_cancelled``: runs stored ``cancelled`` that no client cancelled (must be 0);
- ``wrong_results``: ``k + 1`` runs whose value was not the session's counter plus one;
  ``examples.failed_k_plus_1`` names ``k + 1`` runs that ended neither ``ok`` nor
  ``cancelled``, with their error code and message (spurious cancels carry theirs too);
- ``running_rows``: executions still ``running`` after the load stopped (must be 0);
- ``rss_mb``: the daemon's RSS at the start of the steady state, at the end, and the growth
  between the first and the last fifth of the steady samples (``flat`` when under 25 % of
  the start or 64 MB, whichever is more).

The numbers depend on the machine and its load: say which when quoting them.
"""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.servers import start_daemon

#: The mix: (kind, weight). Limits are hit on purpose: they must end runs cleanly.
MIX = [
    ("k_plus_1", 50),
    ("console", 10),
    ("throw", 8),
    ("memory_bomb", 8),
    ("wall_timeout", 4),
    ("output_limit", 6),
    ("cancelled", 6),
    ("string_bomb", 4),
    ("lifecycle", 1),
]
CODE = {
    "console": "for (let i = 0; i < 20; i++) console.log('line', i); k",
    "throw": "throw new TypeError('soak')",
    # In a function: a top-level `const a` stays bound in the session after the limit stops
    # the run, holding the heap at the limit for every later run (which then fail for real).
    "memory_bomb": "(() => { const a = []; for (;;) a.push(new Array(1e6).fill(1)) })()",
    "wall_timeout": "while (true) {}",
    "output_limit": "for (;;) console.log('x'.repeat(1000))",
    "cancelled": "while (true) {}",
    "string_bomb": '"x".repeat(2**28)',
}
LIMITS = {"wall_ms": 1500, "mem_mb": 128, "max_events": 2000, "max_output_kb": 256}


@dataclass
class Tally:
    """What the clients saw (shared, under ``lock``)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    http_5xx: int = 0
    transport_errors: int = 0
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    spurious_cancelled: list[str] = field(default_factory=list)
    wrong_results: list[str] = field(default_factory=list)
    #: ``k + 1`` runs that ended neither ``ok`` nor (spuriously) ``cancelled``, with why.
    failed_k_plus_1: list[str] = field(default_factory=list)
    sessions: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    def answer(self, r: httpx.Response, kind: str) -> None:
        with self.lock:
            self.requests += 1
            if r.status_code >= 500:
                self.http_5xx += 1
                self.errors.append(f"{kind}: {r.status_code} {r.text[:200]}")


class Client(threading.Thread):
    """One client: a session of its own and the mix, until ``stop`` is set."""

    def __init__(self, url: str, template_id: str, worktree: str, tally: Tally, seed: int):
        super().__init__(daemon=True)
        self.http = httpx.Client(
            base_url=url + "/api/v1", timeout=120, headers={"X-Requested-With": "soak"}
        )
        self.template_id = template_id
        self.worktree = worktree
        self.tally = tally
        self.random = random.Random(seed)
        self.stop = threading.Event()
        self.session = ""
        self.k = 0

    def _post(self, path: str, kind: str, **kwargs: Any) -> httpx.Response | None:
        try:
            r = self.http.post(path, **kwargs)
        except httpx.TransportError as exc:
            with self.tally.lock:
                self.tally.transport_errors += 1
                self.tally.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
            return None
        self.tally.answer(r, kind)
        return r

    def _new_session(self) -> None:
        body = {"template_id": self.template_id, "worktree_path": self.worktree}
        r = self._post("/sessions", "session", json=body)
        if r is None or r.status_code != 201:
            raise RuntimeError(f"cannot create a session: {r and r.text}")
        self.session = r.json()["id"]
        with self.tally.lock:
            self.tally.sessions.add(self.session)
        self.k = 0
        self._repl("var k = 0", "setup")

    def _repl(self, code: str, kind: str, *, wait: bool = True) -> dict[str, Any] | None:
        path = "/executions/repl" if wait else "/executions/repl?wait=false"
        r = self._post(path, kind, json={"session_id": self.session, "input": code})
        if r is None or (r.status_code >= 400 and r.status_code != 422):
            return None
        run: dict[str, Any] = r.json()
        if "error" in run and "status" not in run:  # 422 envelope (output limit)
            run = {"status": "error", "id": run["error"].get("details", {}).get("execution_id")}
        return run

    def run(self) -> None:
        try:
            self._new_session()
            kinds = [k for k, _ in MIX]
            weights = [w for _, w in MIX]
            while not self.stop.is_set():
                self._one(self.random.choices(kinds, weights)[0])
        except Exception as exc:  # reported, not raised in a thread
            with self.tally.lock:
                self.tally.errors.append(f"client crashed: {type(exc).__name__}: {exc}")
        finally:
            self.http.close()

    def _one(self, kind: str) -> None:
        if kind == "lifecycle":
            if self.random.random() < 0.5:
                self._post(f"/sessions/{self.session}/restart", kind)
                self.k = 0
                self._repl("var k = 0", "setup")
            else:
                self._post(f"/sessions/{self.session}/close", kind)
                self._new_session()
            return
        if kind == "k_plus_1":
            run = self._repl("k = k + 1", kind)
            if run is None:
                return
            self._count(kind, run)
            if run.get("status") == "ok":
                self.k += 1
                got = (run.get("result") or {}).get("json")
                if got != self.k:
                    with self.tally.lock:
                        self.tally.wrong_results.append(f"{run['id']}: {got} != {self.k}")
                    self.k = got if isinstance(got, int) else self.k
            return
        if kind == "cancelled":
            run = self._repl(CODE[kind], kind, wait=False)
            if run is None or not run.get("id"):
                return
            time.sleep(self.random.uniform(0.01, 0.3))
            self._post(f"/executions/{run['id']}/cancel", kind)
            self._wait(run["id"], kind, cancelled=True)
            return
        run = self._repl(CODE[kind], kind)
        if run is not None:
            self._count(kind, run)

    def _wait(self, execution_id: str, kind: str, *, cancelled: bool) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                r = self.http.get(f"/executions/{execution_id}")
            except httpx.TransportError:
                continue
            self.tally.answer(r, kind)
            if r.status_code == 200 and r.json()["status"] != "running":
                self._count(kind, r.json(), cancelled=cancelled)
                return
            time.sleep(0.05)

    def _count(self, kind: str, run: dict[str, Any], *, cancelled: bool = False) -> None:
        status = str(run.get("status"))
        error = run.get("error") or {}
        what = (
            f"{kind} {run.get('id')} {status}: "
            f"{error.get('code') or error.get('name')}: {error.get('message')}"
        )
        with self.tally.lock:
            self.tally.statuses[f"{kind}:{status}"] += 1
            if status == "cancelled" and not cancelled:
                self.tally.spurious_cancelled.append(what)
            elif kind == "k_plus_1" and status != "ok":
                self.tally.failed_k_plus_1.append(what)


def _running_rows(url: str, sessions: set[str]) -> list[str]:
    stuck = []
    with httpx.Client(base_url=url + "/api/v1", timeout=60) as http:
        for sid in sessions:
            runs = http.get("/executions", params={"session_id": sid, "limit": 200}).json()
            items = runs["items"] if isinstance(runs, dict) else runs
            stuck += [e["id"] for e in items if e["status"] == "running"]
    return stuck


def _rss_summary(samples: list[tuple[float, float]]) -> dict[str, Any]:
    if len(samples) < 5:
        return {"samples": len(samples), "flat": None}
    steady = samples[len(samples) // 5 :]  # the first fifth is warm-up
    fifth = max(len(steady) // 5, 1)
    first = sum(v for _, v in steady[:fifth]) / fifth
    last = sum(v for _, v in steady[-fifth:]) / fifth
    growth = last - first
    return {
        "samples": len(samples),
        "start_mb": round(steady[0][1], 1),
        "end_mb": round(samples[-1][1], 1),
        "max_mb": round(max(v for _, v in samples), 1),
        "growth_mb": round(growth, 1),
        "flat": growth < max(0.25 * first, 64.0),
    }


def soak(duration: float, clients: int, hosts: str, workdir: Path) -> dict[str, Any]:
    """Run the soak; the report (see the module docstring)."""
    (workdir / "cache").mkdir(parents=True, exist_ok=True)
    worktree = workdir / "worktree"
    worktree.mkdir(exist_ok=True)
    daemon = start_daemon(workdir, "soak", hosts=hosts)
    tally = Tally()
    samples: list[tuple[float, float]] = []
    try:
        with httpx.Client(base_url=daemon.base_url + "/api/v1", timeout=60) as http:
            t = http.post("/templates", json={"name": "soak"}).json()
            r = http.patch(f"/templates/{t['id']}", json={"settings": {"limits": LIMITS}})
            r.raise_for_status()
        seeds = itertools.count(1)
        pool = [
            Client(daemon.base_url, t["id"], str(worktree), tally, next(seeds))
            for _ in range(clients)
        ]
        started = time.monotonic()
        for c in pool:
            c.start()
        while time.monotonic() - started < duration:
            samples.append((time.monotonic() - started, daemon.rss_kb() / 1024))
            time.sleep(min(5.0, max(duration / 60, 0.5)))
        for c in pool:
            c.stop.set()
        for c in pool:
            c.join(timeout=120)
        elapsed = time.monotonic() - started
        stuck = _running_rows(daemon.base_url, tally.sessions)
    finally:
        daemon.stop()
    runs = sum(tally.statuses.values())
    return {
        "duration_s": round(elapsed, 1),
        "clients": clients,
        "hosts": hosts,
        "requests": tally.requests,
        "runs": runs,
        "runs_per_s": round(runs / elapsed, 1),
        "http_5xx": tally.http_5xx,
        "transport_errors": tally.transport_errors,
        "spurious_cancelled": len(tally.spurious_cancelled),
        "wrong_results": len(tally.wrong_results),
        "running_rows": len(stuck),
        "rss_mb": _rss_summary(samples),
        "statuses": dict(sorted(tally.statuses.items())),
        "examples": {
            "errors": tally.errors[:10],
            "spurious_cancelled": tally.spurious_cancelled[:10],
            "wrong_results": tally.wrong_results[:10],
            "failed_k_plus_1": tally.failed_k_plus_1[:10],
            "running_rows": stuck[:10],
        },
    }


def held(report: dict[str, Any]) -> bool:
    """Whether the daemon held: no 5xx, no spurious cancel, no wrong result, no stuck row,
    flat memory."""
    return (
        report["http_5xx"] == 0
        and report["spurious_cancelled"] == 0
        and report["wrong_results"] == 0
        and report["running_rows"] == 0
        and report["rss_mb"].get("flat") is not False
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--hosts", default="process", help="process, ray or inprocess")
    parser.add_argument("--out", type=Path, help="also write the report here (JSON)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vm-system-soak-") as tmp:
        report = soak(args.duration, args.clients, args.hosts, Path(tmp))
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    ok = held(report)
    print("HELD" if ok else "FAILED", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
