"""Session hosts: where sessions' runtimes live (see ``docs/hosts.md``).

Kept free of heavy imports: ``python -m vmsystem.hosts.worker`` imports this package first.
"""

from vmsystem.hosts.base import (
    DEFAULT_MEMORY_BUDGET_MB,
    DEFAULT_MEMORY_MB,
    DEFAULT_SESSIONS_PER_HOST,
    HOST_KINDS,
    KILL_GRACE_S,
    EngineInfo,
    HostInfo,
    HostPool,
    LostCallback,
    OutcomeCallback,
    RuntimeSpec,
    SessionRuntime,
    UnknownHost,
)
from vmsystem.hosts.registry import default_processes, open_hosts

__all__ = [
    "DEFAULT_MEMORY_BUDGET_MB",
    "DEFAULT_MEMORY_MB",
    "DEFAULT_SESSIONS_PER_HOST",
    "HOST_KINDS",
    "KILL_GRACE_S",
    "EngineInfo",
    "HostInfo",
    "HostPool",
    "LostCallback",
    "OutcomeCallback",
    "RuntimeSpec",
    "SessionRuntime",
    "UnknownHost",
    "default_processes",
    "open_hosts",
]
