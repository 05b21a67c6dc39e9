"""A bounded schemathesis pass over every operation of /openapi.json, in-process.

Whatever the fuzzer sends (valid or invalid bodies, odd path values, strange headers), the
daemon never answers 500, every 4xx is exactly the error envelope, and every response carries
X-Request-Id.

The document declares IDs as plain strings, so on its own the fuzzer would only ever reach
the "malformed UUID" answer. For positive cases the IDs (and ``worktree_path``) are replaced
with real ones, so that generated bodies reach real templates, sessions and executions.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import schemathesis
    from schemathesis import GenerationMode

from vmsystem.api import create_app
from vmsystem.core import VmSystem, open_system

from .conftest import API, CLIENT_OPTIONS, TestClient
from .helpers import is_envelope

MAX_EXAMPLES = 30
#: Never given a real ID: the stream of a live session only ends when the client leaves.
ENDLESS = {"/api/v1/sessions/{session_id}/events/stream"}
#: Operations that end the shared session: each such case gets a session of its own.
CLOSING = {
    ("POST", "/api/v1/sessions/{session_id}/close"),
    ("DELETE", "/api/v1/sessions/{session_id}"),
}
#: Deleting the shared template: each such case deletes a template of its own.
DELETING_TEMPLATE = ("DELETE", "/api/v1/templates/{template_id}")


def _openapi_document() -> dict[str, Any]:
    """The document /openapi.json serves (it does not depend on the system behind the app,
    whose settings, such as the file size limit, are then given here)."""
    app = create_app(cast(VmSystem, None), close_on_shutdown=False, max_file_bytes=1 << 20)
    return app.openapi()


schema = schemathesis.openapi.from_dict(_openapi_document())


class Real:
    """Real resources the positive cases are pointed at."""

    def __init__(self, client: TestClient, worktree: Path) -> None:
        self.client = client
        self.worktree = worktree
        (worktree / "init.js").write_text("var ready = 1;")
        # The fuzzer changes this template at will (its sessions may fail to start) ...
        t = self._ok(client.post(f"{API}/templates", json={"name": "fuzz"}))
        base = f"{API}/templates/{t['id']}"
        cap = self._ok(client.post(f"{base}/capabilities", json={"kind": "fs", "name": "write"}))
        sf = self._ok(client.post(f"{base}/startup-files", json={"path": "init.js"}))
        self._ok(client.post(f"{base}/modules", json={"name": "fs"}))
        self.ids = {"template_id": t["id"], "capability_id": cap["id"], "startup_id": sf["id"]}
        # ... and never sees this one, which the sessions executions run in come from.
        stable = self._ok(client.post(f"{API}/templates", json={"name": "fuzz-sessions"}))
        self._ok(
            client.post(f"{API}/templates/{stable['id']}/startup-files", json={"path": "init.js"})
        )
        self.stable_template = stable["id"]
        self.session()
        x = self._ok(
            client.post(
                f"{API}/executions/repl",
                json={"session_id": self.ids["session_id"], "input": "console.log(ready); 1"},
            )
        )
        self.ids["execution_id"] = x["id"]

    @staticmethod
    def _ok(response: Any) -> dict[str, Any]:
        assert response.status_code in (200, 201), response.text
        return response.json()  # type: ignore[no-any-return]

    def session(self) -> str:
        """A ready session (a new one when the last was closed)."""
        sid = self.ids.get("session_id")
        if sid and self.client.get(f"{API}/sessions/{sid}").json().get("status") == "ready":
            return sid
        r = self.client.post(
            f"{API}/sessions",
            json={"template_id": self.stable_template, "worktree_path": str(self.worktree)},
        )
        self.ids["session_id"] = self._ok(r)["id"]
        return self.ids["session_id"]

    def point(self, case: Any) -> None:
        """Replace generated IDs with real ones (positive cases only)."""
        ids = dict(self.ids)
        ids["session_id"] = self.session()
        if (case.method.upper(), case.path) in CLOSING:
            self.ids.pop("session_id", None)  # that one is about to be closed
        if (case.method.upper(), case.path) == DELETING_TEMPLATE:
            r = self.client.post(f"{API}/templates", json={"name": f"doomed-{case.id}"})
            ids["template_id"] = self._ok(r)["id"]
        if case.path not in ENDLESS:
            for name in list(case.path_parameters or {}):
                if name in ids:
                    case.path_parameters[name] = ids[name]
        for part in (case.query, case.body if isinstance(case.body, dict) else None):
            if not part:
                continue
            for name in ("session_id", "template_id"):
                if name in part:
                    part[name] = ids[name]
            if "worktree_path" in part:
                part["worktree_path"] = str(self.worktree)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The real app over a real store and engine, shared by the fuzzed cases of a module."""
    root = tmp_path_factory.mktemp("fuzz")
    system = open_system(str(root / "vm.db"), cache_dir=root / "cache")
    yield create_app(system, close_on_shutdown=False)
    system.close()


@pytest.fixture(scope="module")
def real(app: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Real]:
    with TestClient(app, **CLIENT_OPTIONS) as client:
        yield Real(client, tmp_path_factory.mktemp("fuzz-worktree"))


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_fuzzed_requests_never_get_500_and_every_4xx_is_the_envelope(
    case: Any, app: Any, real: Real
) -> None:
    if case.meta is not None and case.meta.generation.mode is GenerationMode.POSITIVE:
        real.point(case)
    response = case.call(app=app)
    status = response.status_code
    where = f"{case.method} {case.formatted_path}"
    assert status < 500, f"{where} -> {status}: {response.text[:500]}"
    assert response.headers.get("x-request-id"), f"{where}: no X-Request-Id"
    if 400 <= status < 500:
        assert is_envelope(response.json()), f"{where} -> {status}: {response.text[:500]}"


def test_fuzzed_document_is_the_one_the_app_serves(app: Any) -> None:
    with TestClient(app, **CLIENT_OPTIONS) as client:
        served = client.get("/openapi.json").json()
    assert served == _openapi_document()
    operations = {(m.upper(), p) for p, ops in served["paths"].items() for m in ops}
    assert ("POST", "/api/v1/executions/repl") in operations
    assert ("PATCH", "/api/v1/templates/{template_id}") in operations
