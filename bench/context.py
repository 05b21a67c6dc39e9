"""What the measurements share: the servers (started on demand), fixtures and result rows."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from bench.fixtures import LIBRARIES, install_libraries
from bench.servers import ServerProcess, start_bare, start_daemon

__all__ = ["Bench", "Row", "Target"]

_N = TypeVar("_N", int, float)

_OPS: dict[str, Callable[[float, float], bool]] = {"<=": operator.le, ">=": operator.ge}


@dataclass(frozen=True)
class Target:
    """``on`` (``"value"`` or ``"ratio"``) ``op`` (``<=``/``>=``) ``limit``."""

    on: str
    op: str
    limit: float
    unit: str = ""

    def check(self, value: float, ratio: float | None) -> bool | None:
        subject = ratio if self.on == "ratio" else value
        if subject is None or math.isnan(subject):
            return None
        return _OPS[self.op](subject, self.limit)

    def __str__(self) -> str:
        if self.on == "ratio":
            return f"ratio {self.op} {self.limit:g}"
        return f"{self.op} {self.limit:g} {self.unit}".strip()


@dataclass
class Row:
    """One line of the table (and one entry of the JSON ``results``)."""

    name: str
    description: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str | None = None
    target: Target | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.baseline or math.isnan(self.baseline):
            return None
        return self.value / self.baseline

    @property
    def passed(self) -> bool | None:
        return self.target.check(self.value, self.ratio) if self.target else None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "value": _clean(self.value),
            "unit": self.unit,
            "baseline": _clean(self.baseline),
            "baseline_label": self.baseline_label,
            "ratio": _clean(self.ratio),
            "target": str(self.target) if self.target else None,
            "passed": self.passed,
            "details": self.details,
        }


def _clean(x: float | None) -> float | None:
    if x is None or math.isnan(x):
        return None
    return round(x, 4)


class Bench:
    """Shared state of one run. Servers start on first use and stop in :meth:`close`."""

    def __init__(self, workdir: Path, *, quick: bool, hosts: str = "inprocess") -> None:
        self.workdir = workdir
        self.quick = quick
        #: the ``--hosts`` backend of the shared daemon and of ``fresh_daemon`` by default
        self.hosts = hosts
        self.worktree = workdir / "worktree"
        self.worktree.mkdir(parents=True, exist_ok=True)
        self.cache_dir = workdir / "cache"
        self._libraries_ready = False
        self._daemon: ServerProcess | None = None
        self._bare: ServerProcess | None = None
        self._api: httpx.Client | None = None
        self._templates: dict[str, str] = {}
        self._extra: list[ServerProcess] = []
        #: figures one measurement leaves for derived rows (e.g. the HTTP overhead)
        self.results_cache: dict[str, float] = {}

    def n(self, full: _N, quick: _N) -> _N:
        """A count (or a duration) for the full run or for ``--quick``."""
        return quick if self.quick else full

    # ------------------------------------------------------------------ servers
    def ensure_libraries(self) -> None:
        if not self._libraries_ready:
            install_libraries(self.cache_dir, self.workdir / "libsrc")
            self._libraries_ready = True

    def daemon(self) -> ServerProcess:
        if self._daemon is None:
            self.ensure_libraries()
            self._daemon = start_daemon(self.workdir, hosts=self.hosts)
        return self._daemon

    def fresh_daemon(
        self, name: str, *, hosts: str | None = None, args: tuple[str, ...] = ()
    ) -> ServerProcess:
        """A separate daemon (own database) for measurements that need a clean process, on
        ``hosts`` (default: the run's backend) with more ``serve`` flags ``args``."""
        self.ensure_libraries()
        server = start_daemon(self.workdir, name, hosts=hosts or self.hosts, args=args)
        self._extra.append(server)
        return server

    def bare(self) -> ServerProcess:
        if self._bare is None:
            self._bare = start_bare(self.workdir)
        return self._bare

    def api(self) -> httpx.Client:
        """An httpx client of the shared daemon (setup calls, not timed ones)."""
        if self._api is None:
            self._api = httpx.Client(
                base_url=self.daemon().base_url,
                timeout=120,
                headers={"X-Requested-With": "bench"},  # as the SDK sends it (CSRF defence)
            )
        return self._api

    # ------------------------------------------------------------------ resources
    def template(self, name: str, libraries: tuple[str, ...] = ()) -> str:
        """The id of a template of the shared daemon (created once)."""
        if name not in self._templates:
            self._templates[name] = create_template(self.api(), name, libraries)
        return self._templates[name]

    def session(self, template: str = "bench-plain") -> str:
        """A new ready session of the shared daemon."""
        return create_session(self.api(), self.template(template), self.worktree)

    @staticmethod
    def library_names() -> tuple[str, ...]:
        return tuple(lib.name for lib in LIBRARIES)

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
        for server in (self._daemon, self._bare, *self._extra):
            if server is not None:
                server.stop()


def check(response: httpx.Response, *expected: int) -> Any:
    if response.status_code not in expected:
        raise RuntimeError(
            f"{response.request.method} {response.request.url} -> "
            f"{response.status_code}: {response.text[:500]}"
        )
    return response.json()


def create_template(api: httpx.Client, name: str, libraries: tuple[str, ...] = ()) -> str:
    tid: str = check(api.post("/api/v1/templates", json={"name": name}), 201)["id"]
    for lib in libraries:
        check(api.post(f"/api/v1/templates/{tid}/libraries", json={"name": lib}), 201)
    return tid


def create_session(api: httpx.Client, template_id: str, worktree: Path) -> str:
    body = {"template_id": template_id, "worktree_path": str(worktree)}
    sid: str = check(api.post("/api/v1/sessions", json=body), 201)["id"]
    return sid
