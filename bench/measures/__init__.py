"""The measurements, in the order a full run takes them. Each module has ``NAME`` and
``run(bench) -> list[Row]``."""

from __future__ import annotations

from types import ModuleType

from bench.measures import (
    cli,
    console,
    fib,
    hosts,
    http_latency,
    inprocess,
    memory,
    middleware,
    modules,
    recovery,
    rejections,
    search,
    sessions,
    sse,
    termination,
    throughput,
)

__all__ = ["MEASURES"]

MEASURES: dict[str, ModuleType] = {
    m.NAME: m
    for m in (
        inprocess,
        http_latency,
        middleware,
        throughput,
        sessions,
        console,
        sse,
        fib,
        rejections,
        memory,
        hosts,
        recovery,
        termination,
        search,
        modules,
        cli,
    )
}
