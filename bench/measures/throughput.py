"""Executions per second with 1, 4 and 16 concurrent clients over 8 sessions, beside the
bare endpoint's requests per second at the same concurrency (same load generator)."""

from __future__ import annotations

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
    return {
        "rate": r.rate,
        "completed": r.completed,
        "errors": r.errors,
        "statuses": {str(k): v for k, v in r.statuses.items()},
        "client_cpu_util": r.client_cpu_s / wall,
        "server_cpu_util": server_cpu / wall,
    }


def run(b: Bench) -> list[Row]:
    daemon, bare = b.daemon(), b.bare()
    sessions = [b.session() for _ in range(SESSIONS)]
    rows = []
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
    for sid in sessions:
        b.api().post(f"/api/v1/sessions/{sid}/close")
    return rows
