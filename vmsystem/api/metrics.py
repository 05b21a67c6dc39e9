"""Prometheus metrics of the daemon (served at ``/metrics``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

__all__ = ["HTTP_DURATION", "HTTP_REQUESTS", "REGISTRY", "render_metrics"]

REGISTRY = CollectorRegistry()
HTTP_REQUESTS = Counter(
    "vmsystem_http_requests_total",
    "HTTP requests by method, route and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "vmsystem_http_request_duration_seconds",
    "HTTP request duration by route",
    ["method", "route"],
    registry=REGISTRY,
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ACTIVE_SESSIONS = Gauge(
    "vmsystem_active_sessions", "Sessions with a live runtime", registry=REGISTRY
)
RUNNING_EXECUTIONS = Gauge(
    "vmsystem_running_executions", "Executions currently running", registry=REGISTRY
)
STORE_COMMITS = Gauge(
    "vmsystem_store_writer_commits",
    "Transactions the store's writer committed (executions, events, search index)",
    registry=REGISTRY,
)
UPTIME = Gauge("vmsystem_uptime_seconds", "Seconds since the daemon started", registry=REGISTRY)
HOST_SESSIONS = Gauge(
    "vmsystem_host_sessions", "Session runtimes on each host", ["host", "kind"], registry=REGISTRY
)
HOST_RESTARTS = Gauge(
    "vmsystem_host_restarts",
    "Times each host was restarted after dying",
    ["host", "kind"],
    registry=REGISTRY,
)
HOST_ALIVE = Gauge(
    "vmsystem_host_alive", "1 when the host is alive", ["host", "kind"], registry=REGISTRY
)

DAEMON_ALIVE = Gauge(
    "vmsystem_daemon_alive",
    "1 while the daemon's lease holds (every daemon registered over the database)",
    ["daemon", "address", "version"],
    registry=REGISTRY,
)
DAEMON_HEARTBEAT_AGE = Gauge(
    "vmsystem_daemon_heartbeat_age_seconds",
    "Seconds since the daemon last renewed its lease",
    ["daemon"],
    registry=REGISTRY,
)


def render_metrics(system: Any) -> tuple[bytes, str]:
    """The exposition text, with gauges refreshed from the live system."""
    ACTIVE_SESSIONS.set(len(system.sessions.live_ids()))
    RUNNING_EXECUTIONS.set(len(system.executions.running()))
    UPTIME.set(system.uptime_s)
    STORE_COMMITS.set(system.store.commits)
    for gauge in (HOST_SESSIONS, HOST_RESTARTS, HOST_ALIVE):
        gauge.clear()  # hosts that went away leave the exposition
    for host in system.hosts.hosts():
        HOST_SESSIONS.labels(host.id, host.kind).set(host.sessions)
        HOST_RESTARTS.labels(host.id, host.kind).set(host.restarts)
        HOST_ALIVE.labels(host.id, host.kind).set(1 if host.alive else 0)
    for gauge in (DAEMON_ALIVE, DAEMON_HEARTBEAT_AGE):
        gauge.clear()  # daemons that went away leave the exposition
    now = datetime.now(UTC)
    for daemon in system.daemons():
        DAEMON_ALIVE.labels(daemon.id, daemon.address or "", daemon.version).set(
            1 if daemon.alive else 0
        )
        DAEMON_HEARTBEAT_AGE.labels(daemon.id).set((now - daemon.heartbeat_at).total_seconds())
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
