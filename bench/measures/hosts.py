"""Session hosts side by side (issue 12 item 7): the daemon with ``--hosts inprocess``,
``--hosts process`` and ``--hosts ray``, each a real ``vm-system serve`` subprocess of this run.

- REPL ``1+1`` over HTTP (p50) and executions/s with 16 clients over 8 sessions: the
  in-process and process daemons run at the same time and alternate, repeat by repeat.
- Session create (p50) on both.
- Memory per idle session: the RSS of the daemon plus every host process (pids from
  ``GET /api/v1/runtime/summary``), with 200 idle sessions minus with none, on fresh daemons.
- Host death: ``kill -9`` of the only host (``--host-processes 1``) under 4 ready sessions,
  timed until they all read ``crashed`` and until a new session runs ``1+1`` on the
  restarted host (and, apart, until the restarted host is listed alive).
- Memory also on a process daemon with ``--sessions-per-host 100`` (no target): 200 sessions
  on the 2 hosts kept started, without the default's 5 extra hosts.
- Ray (no target): one short block at the end, since its local cluster takes ~10 s and
  ~1.5 GB to start. Skipped with ``--quick``.
"""

from __future__ import annotations

import math
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import orjson

from bench.context import Bench, Row, Target, check, create_session, create_template
from bench.loadgen import run_load
from bench.measures.http_latency import HEADERS
from bench.measures.sessions import _create_batch
from bench.servers import (
    ServerProcess,
    cpu_seconds,
    pss_kb,
    sched_wait_seconds,
    voluntary_switches,
)
from bench.stats import median, summary

NAME = "hosts"
#: Sent as the SDK does: bodyless POSTs (close) need it (the daemon's cross-site check).
API_HEADERS = {"X-Requested-With": "bench"}
SESSIONS = 8
CLIENTS = 16
IDLE_SESSIONS = 200
CRASH_SESSIONS = 4
REPL = "/api/v1/executions/repl"
KINDS = ("inprocess", "process")


# ---------------------------------------------------------------------------- helpers
def _latency_batch(client: httpx.Client, body: bytes, n: int, path: str = REPL) -> list[float]:
    samples = []
    post = client.post
    for _ in range(n):
        t0 = time.perf_counter()
        r = post(path, content=body, headers=HEADERS)
        samples.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 201:
            raise RuntimeError(f"POST {path} -> {r.status_code}: {r.text[:300]}")
    return samples


def _bare(b: Bench) -> dict[str, Any]:
    """The bare endpoint (same server stack, no engine, no store): REPL-shaped ``POST /bare``
    p50 and requests/s with the same 16 clients, after the daemons' windows."""
    bare = b.bare()
    body = orjson.dumps({"session_id": "bare", "input": "1+1"})
    with httpx.Client(base_url=bare.base_url, timeout=30) as client:
        _latency_batch(client, body, b.n(300, 30), "/bare")
        p50s = [
            summary(_latency_batch(client, body, b.n(800, 60), "/bare"))["p50"]
            for _ in range(b.n(5, 1))
        ]
    keys = [f"bare-{i}" for i in range(CLIENTS)]
    rates = [
        run_load(
            bare.base_url,
            "/bare",
            lambda k: {"session_id": k, "input": "1+1"},
            keys,
            CLIENTS,
            warmup_s=b.n(0.5, 0.2),
            duration_s=b.n(3.0, 0.5),
        ).rate
        for _ in range(b.n(3, 1))
    ]
    return {"repl_p50": median(p50s), "rate": median(rates), "p50s": p50s, "rates": rates}


def _throughput_window(b: Bench, server: ServerProcess, sessions: list[str]) -> dict[str, Any]:
    """One closed-loop window of 16 clients; CPU of the daemon and of its hosts, apart, and
    the time their threads waited for a CPU (run queue), per execution."""
    pids = [p for p in server.host_pids() if p != server.pid]
    daemon0, tree0 = server.cpu_seconds(), server.tree_cpu_seconds(pids)
    wait0 = {p: _wait(p) for p in (server.pid, *pids)}
    warmup = b.n(0.5, 0.2)
    r = run_load(
        server.base_url,
        REPL,
        lambda k: {"session_id": k, "input": "1+1"},
        sessions,
        CLIENTS,
        warmup_s=warmup,
        duration_s=b.n(3.0, 0.5),
    )
    wall = r.duration_s + warmup
    daemon_cpu = server.cpu_seconds() - daemon0
    tree_cpu = server.tree_cpu_seconds(pids) - tree0
    waits = {p: _wait(p) - w for p, w in wait0.items()}
    daemon_wait = waits.pop(server.pid)
    # Per execution: utilisation over the whole window (warm-up included) over the rate
    # measured after the warm-up, i.e. assuming the warm-up ran at the same rate.
    per_exec = 1000 / r.rate / wall if r.rate else math.nan
    return {
        "rate": r.rate,
        "completed": r.completed,
        "errors": r.errors,
        "statuses": {str(k): v for k, v in r.statuses.items()},
        "client_cpu_util": r.client_cpu_s / wall,
        "daemon_cpu_util": daemon_cpu / wall,
        "hosts_cpu_util": (tree_cpu - daemon_cpu) / wall,
        "daemon_cpu_ms_per_exec": daemon_cpu * per_exec,
        "hosts_cpu_ms_per_exec": (tree_cpu - daemon_cpu) * per_exec,
        "daemon_runqueue_wait_ms_per_exec": daemon_wait * per_exec,
        "hosts_runqueue_wait_ms_per_exec": sum(waits.values()) * per_exec,
    }


def _wait(pid: int) -> float:
    try:
        return sched_wait_seconds(pid)
    except OSError:  # no schedstat (kernel without scheduler statistics)
        return math.nan


def _run_cost(b: Bench, server: ServerProcess, n: int) -> dict[str, Any]:
    """Sequential ``1+1`` REPL runs in one session: the hosts' CPU per run (from their
    ``/proc/PID/stat``) and the daemon's voluntary context switches per run (every thread's)."""
    with httpx.Client(base_url=server.base_url, timeout=120, headers=API_HEADERS) as api:
        tid = create_template(api, "bench-run-cost")
        sid = create_session(api, tid, b.worktree)
        body = orjson.dumps({"session_id": sid, "input": "1+1"})
        headers = {"content-type": "application/json"}
        for _ in range(50):  # warm-up
            check(api.post(REPL, content=body, headers=headers), 201)
        hosts = [p for p in server.host_pids() if p != server.pid]
        cpu0 = sum(cpu_seconds(p) for p in hosts)
        switches0 = voluntary_switches(server.pid)
        for _ in range(n):
            check(api.post(REPL, content=body, headers=headers), 201)
        switches = voluntary_switches(server.pid) - switches0
        cpu = sum(cpu_seconds(p) for p in hosts) - cpu0
    return {
        "runs": n,
        "host_pids": hosts,
        "host_cpu_ms_per_run": cpu * 1000 / n,
        "daemon_voluntary_switches_per_run": switches / n,
    }


def _rss_sample(b: Bench, server: ServerProcess) -> dict[str, Any]:
    time.sleep(b.n(1.0, 0.2))  # let the daemon's and hosts' allocators settle
    total, pids = server.tree_rss_kb()
    return {
        "rss_kb": total,
        "pss_kb": server.tree_pss_kb(pids),
        "daemon_rss_kb": server.rss_kb(),
        "daemon_pss_kb": pss_kb(server.pid),
        "host_pids": pids,
    }


def _summary(api: httpx.Client) -> dict[str, Any]:
    data: dict[str, Any] = check(api.get("/api/v1/runtime/summary"), 200)
    return data


# ---------------------------------------------------------------------------- blocks
def _latency_and_throughput(b: Bench, servers: dict[str, ServerProcess]) -> dict[str, Any]:
    """Alternating repeats over the daemons in ``servers`` (all started, all idle but one)."""
    out: dict[str, Any] = {}
    state: dict[str, dict[str, Any]] = {}
    for kind, server in servers.items():
        api = httpx.Client(base_url=server.base_url, timeout=120, headers=API_HEADERS)
        tid = create_template(api, f"bench-hosts-{kind}")
        sessions = [create_session(api, tid, b.worktree) for _ in range(SESSIONS)]
        client = httpx.Client(base_url=server.base_url, timeout=30, headers=API_HEADERS)
        body = orjson.dumps({"session_id": sessions[0], "input": "1+1"})
        _latency_batch(client, body, b.n(300, 30))
        state[kind] = {
            "api": api,
            "tid": tid,
            "sessions": sessions,
            "client": client,
            "body": body,
            "latency": [],
            "throughput": [],
            "create": [],
        }
    try:
        order = list(servers)
        for _ in range(b.n(5, 1)):
            for kind in order:
                s = state[kind]
                s["latency"].append(summary(_latency_batch(s["client"], s["body"], b.n(800, 60))))
            order.reverse()
        for _ in range(b.n(3, 1)):
            for kind in order:
                s = state[kind]
                s["throughput"].append(_throughput_window(b, servers[kind], s["sessions"]))
            order.reverse()
        for kind in order:  # warm-up of session creation (not timed)
            s = state[kind]
            _create_batch(s["api"], s["tid"], str(b.worktree), b.n(3, 1))
        for _ in range(b.n(5, 1)):
            for kind in order:
                s = state[kind]
                s["create"].append(
                    summary(_create_batch(s["api"], s["tid"], str(b.worktree), b.n(20, 5)))
                )
            order.reverse()
        for kind, s in state.items():
            out[kind] = {
                "repl_p50": median([x["p50"] for x in s["latency"]]),
                "repl_p99": median([x["p99"] for x in s["latency"]]),
                "rate": median([float(x["rate"]) for x in s["throughput"]]),
                "create_p50": median([x["p50"] for x in s["create"]]),
                "hosts": _summary(s["api"])["hosts"],
                "latency": s["latency"],
                "throughput": s["throughput"],
                "create": s["create"],
            }
            for sid in s["sessions"]:
                s["api"].post(f"/api/v1/sessions/{sid}/close")
    finally:
        for s in state.values():
            s["client"].close()
            s["api"].close()
    return out


def _memory(
    b: Bench, kind: str, server: ServerProcess | None = None, args: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Daemon + hosts RSS per idle session, on a fresh daemon with default host flags plus
    ``args`` (or, with ``--quick``, on ``server``, already warm, to save two daemon starts)."""
    total = b.n(IDLE_SESSIONS, 20)
    own = server is None
    if server is None:
        name = f"hosts-mem-{kind}" + "".join(a.strip("-") for a in args)
        server = b.fresh_daemon(name, hosts=kind, args=args)
    try:
        with httpx.Client(base_url=server.base_url, timeout=120, headers=API_HEADERS) as api:
            tid = create_template(api, "bench-memory")
            # Warm-up: first sessions pay one-time costs (V8 platform, code caches, pools)
            # in the daemon and in each of the hosts kept started.
            warm = [create_session(api, tid, b.worktree) for _ in range(5)]
            for sid in warm:
                body = {"session_id": sid, "input": "1+1"}
                check(api.post(REPL, json=body), 201)
                check(api.post(f"/api/v1/sessions/{sid}/close"), 200)
            before = _rss_sample(b, server)
            for _ in range(total):
                create_session(api, tid, b.worktree)
            after = _rss_sample(b, server)
            hosts = _summary(api)["hosts"]
    finally:
        if own:
            server.stop()
    return {
        "fresh_daemon": own,
        "mib_per_session": (after["rss_kb"] - before["rss_kb"]) / total / 1024,
        "pss_mib_per_session": (after["pss_kb"] - before["pss_kb"]) / total / 1024,
        "sessions": total,
        "before": before,
        "after": after,
        "hosts_after": [{k: h[k] for k in ("id", "pid", "sessions", "rss_bytes")} for h in hosts],
    }


def _host_death(b: Bench) -> dict[str, Any]:
    """kill -9 the only host under ``CRASH_SESSIONS`` sessions; time both recoveries."""
    server = b.fresh_daemon(
        "hosts-crash",
        hosts="process",
        args=("--host-processes", "1", "--sessions-per-host", str(CRASH_SESSIONS)),
    )
    repeats = []
    try:
        with httpx.Client(base_url=server.base_url, timeout=60, headers=API_HEADERS) as api:
            tid = create_template(api, "bench-crash")
            # The crash path itself (the recovery measure times a rebuild by replay).
            off = {"settings": {"recovery": {"policy": "off"}}}
            check(api.patch(f"/api/v1/templates/{tid}", json=off), 200)
            for _ in range(b.n(5, 2)):
                sessions = [create_session(api, tid, b.worktree) for _ in range(CRASH_SESSIONS)]
                for sid in sessions:
                    check(api.post(REPL, json={"session_id": sid, "input": "1+1"}), 201)
                host = _summary(api)["hosts"]
                assert len(host) == 1 and host[0]["sessions"] == CRASH_SESSIONS, host
                host_id, pid = host[0]["id"], int(host[0]["pid"])
                os.kill(pid, signal.SIGKILL)
                t0 = time.perf_counter()
                pending = set(sessions)
                while pending:
                    for sid in list(pending):
                        if check(api.get(f"/api/v1/sessions/{sid}"), 200)["status"] == "crashed":
                            pending.discard(sid)
                    if time.perf_counter() - t0 > 30:
                        raise RuntimeError(f"sessions not crashed after 30 s: {pending}")
                crashed = time.perf_counter() - t0
                while True:  # the restarted host has said `ready` (not timed into serving)
                    h = [x for x in _summary(api)["hosts"] if x["id"] == host_id]
                    if h and h[0]["alive"] and h[0]["pid"] != pid:
                        break
                    if time.perf_counter() - t0 > 30:
                        raise RuntimeError(f"host {host_id} not restarted after 30 s")
                host_ready = time.perf_counter() - t0
                new = check(
                    api.post(
                        "/api/v1/sessions",
                        json={"template_id": tid, "worktree_path": str(b.worktree)},
                    ),
                    201,
                )
                result = check(api.post(REPL, json={"session_id": new["id"], "input": "1+1"}), 201)
                serving = time.perf_counter() - t0
                after = _summary(api)["hosts"]
                restarted = [h for h in after if h["id"] == host_id]
                repeats.append(
                    {
                        "crashed_ms": crashed * 1000,
                        "host_ready_ms": host_ready * 1000,
                        "serving_ms": serving * 1000,
                        "result": result.get("result"),
                        "new_session_host": new.get("host_id"),
                        "on_restarted_host": new.get("host_id") == host_id
                        and bool(restarted)
                        and restarted[0]["pid"] != pid,
                        "hosts_after": len(after),
                        "killed_pid": pid,
                        "new_pid": restarted[0]["pid"] if restarted else None,
                    }
                )
                check(api.post(f"/api/v1/sessions/{new['id']}/close"), 200)
    finally:
        server.stop()
    if not all(r["on_restarted_host"] for r in repeats):
        raise RuntimeError(f"a new session did not land on the restarted host: {repeats}")
    return {
        "crashed_ms": median([r["crashed_ms"] for r in repeats]),
        "host_ready_ms": median([r["host_ready_ms"] for r in repeats]),
        "serving_ms": median([r["serving_ms"] for r in repeats]),
        "repeats": repeats,
    }


def _ray_block(b: Bench) -> dict[str, Any]:
    """One short block on a daemon that starts its own local Ray cluster."""
    t0 = time.perf_counter()
    server = b.fresh_daemon("hosts-ray", hosts="ray")
    started_s = time.perf_counter() - t0
    try:
        pids = server.host_pids()
        rss_kb, _ = server.tree_rss_kb()
        out = _latency_and_throughput_single(b, server)
    finally:
        server.stop()
    out["daemon_start_s"] = started_s
    out["tree_rss_kb_at_start"] = rss_kb
    out["actor_pids"] = pids
    return out


def _latency_and_throughput_single(b: Bench, server: ServerProcess) -> dict[str, Any]:
    with httpx.Client(base_url=server.base_url, timeout=120, headers=API_HEADERS) as api:
        tid = create_template(api, "bench-hosts-ray")
        sessions = [create_session(api, tid, b.worktree) for _ in range(SESSIONS)]
        body = orjson.dumps({"session_id": sessions[0], "input": "1+1"})
        with httpx.Client(base_url=server.base_url, timeout=30, headers=API_HEADERS) as client:
            _latency_batch(client, body, 100)
            latency = [summary(_latency_batch(client, body, 300)) for _ in range(3)]
        throughput = [_throughput_window(b, server, sessions) for _ in range(2)]
        _create_batch(api, tid, str(b.worktree), 2)
        create = summary(_create_batch(api, tid, str(b.worktree), 10))
        hosts = _summary(api)["hosts"]
    return {
        "repl_p50": median([x["p50"] for x in latency]),
        "repl_p99": median([x["p99"] for x in latency]),
        "rate": median([float(x["rate"]) for x in throughput]),
        "create_p50": create["p50"],
        "hosts": hosts,
        "latency": latency,
        "throughput": throughput,
        "create": [create],
    }


# ---------------------------------------------------------------------------- rows
def run(b: Bench) -> list[Row]:
    phases: dict[str, float] = {}
    t0 = time.perf_counter()
    b.ensure_libraries()
    with ThreadPoolExecutor(2) as pool:  # start both daemons at once
        futures = {k: pool.submit(b.fresh_daemon, f"hosts-{k}", hosts=k) for k in KINDS}
        servers = {k: f.result() for k, f in futures.items()}
    try:
        side = _latency_and_throughput(b, servers)
        phases["side_by_side"] = time.perf_counter() - t0
        cost = _run_cost(b, servers["process"], b.n(1000, 200))
        if b.quick:
            memory = {k: _memory(b, k, servers[k]) for k in KINDS}
    finally:
        for server in servers.values():
            server.stop()
    if not b.quick:
        memory = {k: _memory(b, k) for k in KINDS}
        # What the default's extra hosts cost: the same 200 sessions on the 2 hosts kept
        # started (no target; --sessions-per-host 100 fits 2 x 100 sessions of 128 MB heap
        # limit only if they stay small).
        memory["process_k100"] = _memory(b, "process", args=("--sessions-per-host", "100"))
    phases["memory"] = time.perf_counter() - t0 - sum(phases.values())
    death = _host_death(b)
    phases["host_death"] = time.perf_counter() - t0 - sum(phases.values())
    ray = None if b.quick else _ray_block(b)
    phases["ray"] = time.perf_counter() - t0 - sum(phases.values())

    ip, pr = side["inprocess"], side["process"]
    bare = _bare(b)
    rows = [
        Row(
            "hosts_repl_http_p50_process_vs_bare",
            "REPL `1+1` over HTTP p50, --hosts process, against the bare endpoint",
            pr["repl_p50"],
            "ms",
            bare["repl_p50"],
            "bare p50",
            Target("ratio", "<=", 2.0),
            details=bare,
        ),
        Row(
            "hosts_throughput_c16_process_vs_bare",
            f"executions/s, {CLIENTS} clients, --hosts process, against the bare endpoint",
            pr["rate"],
            "exec/s",
            bare["rate"],
            "bare requests/s",
            Target("ratio", ">=", 0.25),
        ),
        Row(
            "hosts_repl_http_p50_inprocess",
            "REPL `1+1` over HTTP p50, --hosts inprocess",
            ip["repl_p50"],
            "ms",
            details={"repeats": ip["latency"], "p99": ip["repl_p99"], "phases_s": phases},
        ),
        Row(
            "hosts_repl_http_p50_process",
            "REPL `1+1` over HTTP p50, --hosts process",
            pr["repl_p50"],
            "ms",
            ip["repl_p50"],
            "inprocess p50",
            Target("ratio", "<=", 1.25),
            details={"repeats": pr["latency"], "p99": pr["repl_p99"], "hosts": pr["hosts"]},
        ),
        Row(
            "hosts_throughput_c16_inprocess",
            f"executions/s, {CLIENTS} clients over {SESSIONS} sessions, --hosts inprocess",
            ip["rate"],
            "exec/s",
            details={"windows": ip["throughput"]},
        ),
        Row(
            "hosts_throughput_c16_process",
            f"executions/s, {CLIENTS} clients over {SESSIONS} sessions, --hosts process",
            pr["rate"],
            "exec/s",
            ip["rate"],
            "inprocess exec/s",
            Target("ratio", ">=", 1.5),
            details={"windows": pr["throughput"]},
        ),
        Row(
            "hosts_daemon_cpu_per_exec_c16_process",
            f"daemon CPU per execution (/proc/<pid>/stat), {CLIENTS} clients, --hosts process",
            median([float(x["daemon_cpu_ms_per_exec"]) for x in pr["throughput"]]),
            "ms",
            median([float(x["daemon_cpu_ms_per_exec"]) for x in ip["throughput"]]),
            "inprocess daemon ms",
            Target("value", "<=", 0.6, "ms"),
        ),
        Row(
            "hosts_session_create_p50_inprocess",
            "session create p50 (no libraries), --hosts inprocess",
            ip["create_p50"],
            "ms",
            details={"repeats": ip["create"]},
        ),
        Row(
            "hosts_session_create_p50_process",
            "session create p50 (no libraries), --hosts process",
            pr["create_p50"],
            "ms",
            ip["create_p50"],
            "inprocess p50",
            Target("value", "<=", 15.0, "ms"),
            details={"repeats": pr["create"]},
        ),
        Row(
            "hosts_host_cpu_per_run",
            "host CPU per `1+1` run (host /proc/PID/stat), process",
            cost["host_cpu_ms_per_run"],
            "ms",
            target=Target("value", "<=", 0.25, "ms"),
            details=cost,
        ),
        Row(
            "hosts_daemon_switches_per_run",
            "daemon voluntary context switches per `1+1` run, process",
            cost["daemon_voluntary_switches_per_run"],
            "switches",
            target=Target("value", "<=", 4.0, "switches"),
            details=cost,
        ),
        Row(
            "hosts_memory_idle_process_pss",
            f"PSS per idle session ({memory['process']['sessions']}), daemon + hosts, process",
            memory["process"]["pss_mib_per_session"],
            "MiB",
            target=Target("value", "<=", 1.5, "MiB"),
            details=memory["process"],
        ),
        Row(
            "hosts_memory_idle_inprocess",
            f"RSS per idle session ({memory['inprocess']['sessions']}), daemon, inprocess",
            memory["inprocess"]["mib_per_session"],
            "MiB",
            details=memory["inprocess"],
        ),
        Row(
            "hosts_memory_idle_process",
            f"RSS per idle session ({memory['process']['sessions']}), daemon + hosts, process",
            memory["process"]["mib_per_session"],
            "MiB",
            memory["inprocess"]["mib_per_session"],
            "inprocess MiB",
            Target("value", "<=", 1.5, "MiB"),
            details=memory["process"],
        ),
        *(
            [
                Row(
                    "hosts_memory_idle_process_k100",
                    "RSS per idle session (200), daemon + hosts, process, --sessions-per-host 100",
                    memory["process_k100"]["mib_per_session"],
                    "MiB",
                    memory["inprocess"]["mib_per_session"],
                    "inprocess MiB",
                    details=memory["process_k100"],
                )
            ]
            if "process_k100" in memory
            else []
        ),
        Row(
            "hosts_death_to_crashed",
            f"kill -9 of a host to its {CRASH_SESSIONS} sessions read `crashed` (median)",
            death["crashed_ms"],
            "ms",
            details={"repeats": death["repeats"]},
        ),
        Row(
            "hosts_death_to_host_ready",
            "kill -9 of a host to the restarted host listed alive with a new pid (median)",
            death["host_ready_ms"],
            "ms",
        ),
        Row(
            "hosts_death_to_serving",
            "kill -9 of a host to a new session's `1+1` done on the restarted host (median)",
            death["serving_ms"],
            "ms",
            target=Target("value", "<=", 2000.0, "ms"),
        ),
    ]
    if ray is None:
        skipped = "skipped in --quick (Ray's local cluster takes ~10 s and ~1.5 GB to start)"
        for name in ("repl_http_p50", "throughput_c16", "session_create_p50"):
            rows.append(Row(f"hosts_{name}_ray", f"--hosts ray: {skipped}", math.nan, ""))
        return rows
    rows += [
        Row(
            "hosts_repl_http_p50_ray",
            "REPL `1+1` over HTTP p50, --hosts ray (local cluster)",
            ray["repl_p50"],
            "ms",
            ip["repl_p50"],
            "inprocess p50",
            details={k: v for k, v in ray.items() if k not in ("throughput", "create")},
        ),
        Row(
            "hosts_throughput_c16_ray",
            f"executions/s, {CLIENTS} clients over {SESSIONS} sessions, --hosts ray",
            ray["rate"],
            "exec/s",
            ip["rate"],
            "inprocess exec/s",
            details={"windows": ray["throughput"]},
        ),
        Row(
            "hosts_session_create_p50_ray",
            "session create p50 (no libraries), --hosts ray",
            ray["create_p50"],
            "ms",
            ip["create_p50"],
            "inprocess p50",
            details={"repeats": ray["create"]},
        ),
    ]
    return rows
