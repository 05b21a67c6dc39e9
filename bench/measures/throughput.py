"""Executions per second with 1, 4 and 16 concurrent clients over 8 sessions, beside the
bare endpoint's requests per second at the same concurrency (same load generator); how c=16
scales over c=1; and the store's commits per execution at c=1 and c=16 (the writer's commit
count from ``/metrics`` before and after each window, over the executions of the window,
warm-up included)."""

from __future__ import annotations

import httpx

from bench.context import Bench, Row, Target
from bench.loadgen import LoadResult, run_load
from bench.stats import median

NAME = "throughput"
CONCURRENCY = (1, 4, 16)
SESSIONS = 8


def _window(b: Bench, server: object, path: str, keys: list[str], c: int) -> dict[str, object]:
    from bench.servers import ServerProcess

    assert isinstance(server, ServerProcess)
    cpu0 = server.cpu_seconds()
    commits0 = _commits(server.base_url) if path != "/bare" else None
    r: LoadResult = run_load(
        server.base_url,
        path,
        lambda k: {"session_id": k, "input": "1+1"},
        keys,
        c,
        warmup_s=b.n(0.5, 0.2),
        duration_s=b.n(3.0, 0.5),
    )
    server_cpu = server.cpu_seconds() - cpu0
    wall = r.duration_s + b.n(0.5, 0.2)
    commits = _commits(server.base_url) - commits0 if commits0 is not None else None
    return {
        "commits_per_exec": commits / (r.rate * wall) if commits is not None and r.rate else None,
        "rate": r.rate,
        "completed": r.completed,
        "errors": r.errors,
        "statuses": {str(k): v for k, v in r.statuses.items()},
        "client_cpu_util": r.client_cpu_s / wall,
        "server_cpu_util": server_cpu / wall,
    }


def _commits(base_url: str) -> float:
    """The daemon's store writer commits so far (``vmsystem_store_writer_commits``)."""
    text = httpx.get(f"{base_url}/metrics", timeout=30).text
    for line in text.splitlines():
        if line.startswith("vmsystem_store_writer_commits "):
            return float(line.split()[1])
    raise RuntimeError("the daemon's /metrics has no vmsystem_store_writer_commits")


def run(b: Bench) -> list[Row]:
    daemon, bare = b.daemon(), b.bare()
    sessions = [b.session() for _ in range(SESSIONS)]
    rows = []
    rates: dict[int, float] = {}
    for c in CONCURRENCY:
        # The daemon runs one execution per session at a time: clients borrow a free session
        # from the pool of 8. The bare endpoint gets one key per client (no waiting).
        bare_keys = [f"bare-{i}" for i in range(max(c, SESSIONS))]
        runs: dict[str, list[dict[str, object]]] = {"bare": [], "daemon": []}
        order = ["bare", "daemon"]
        for _ in range(b.n(5, 1)):
            for key in order:
                if key == "bare":
                    runs[key].append(_window(b, bare, "/bare", bare_keys, c))
                else:
                    runs[key].append(_window(b, daemon, "/api/v1/executions/repl", sessions, c))
            order.reverse()
        d = median([float(x["rate"]) for x in runs["daemon"]])  # type: ignore[arg-type]
        rates[c] = d
        if c in (1, 16):
            commits = [x["commits_per_exec"] for x in runs["daemon"]]
            rows.append(
                Row(
                    f"store_commits_per_exec_c{c}",
                    f"store commits per REPL execution, {c} concurrent client(s)",
                    median([float(x) for x in commits if x is not None]),  # type: ignore[arg-type]
                    "commits",
                    target=Target("value", "<=", 0.5, "commits") if c == 16 else None,
                    details={"windows": commits},
                )
            )
        base = median([float(x["rate"]) for x in runs["bare"]])  # type: ignore[arg-type]
        rows.append(
            Row(
                f"throughput_c{c}",
                f"REPL `1+1` executions/s, {c} concurrent client(s), {SESSIONS} sessions",
                d,
                "exec/s",
                base,
                f"bare requests/s at c={c}",
                Target("ratio", ">=", 0.6) if c == 16 else None,
                details=runs,
            )
        )
    rows.append(
        Row(
            "throughput_c16_over_c1",
            "REPL `1+1` executions/s at c=16 over c=1 (the daemon scales with clients)",
            rates[16],
            "exec/s",
            rates[1],
            "exec/s at c=1",
            Target("ratio", ">=", 1.8),
        )
    )
    for sid in sessions:
        b.api().post(f"/api/v1/sessions/{sid}/close")
    return rows
