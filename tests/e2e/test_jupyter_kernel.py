"""The Jupyter kernel against a real daemon, through the kernelspec `vm-system kernel install`
writes: jupyter_client's KernelManager and nbclient, as a notebook front end drives it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.e2e.conftest import Daemon, daemon_env, wait_for

pytestmark = pytest.mark.e2e

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    '<rect width="10" height="10"/></svg>'
)


def install_kernel(
    server_url: str, prefix: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    """``vm-system --server-url URL kernel install --prefix PREFIX OPTIONS`` (it must succeed)."""
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "vmsystem",
            "--server-url",
            server_url,
            "kernel",
            "install",
            "--prefix",
            str(prefix),
            *options,
        ],
        capture_output=True,
        text=True,
        env=daemon_env(),
        timeout=120,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    return installed


@pytest.fixture(scope="module")
def jupyter_prefix(daemon: Daemon, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A Jupyter data prefix holding the vm-system kernelspec, installed by the CLI."""
    prefix = tmp_path_factory.mktemp("jupyter-prefix")
    installed = install_kernel(daemon.url, prefix, "--template", "kernel-tests")
    assert "Installed kernelspec vm-system" in installed.stdout
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    try:
        yield prefix
    finally:
        if old is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = old


@pytest.fixture
def kernel_cwd(tmp_path: Path) -> Path:
    path = tmp_path / "notebooks"
    path.mkdir()
    return path


def _sessions(daemon: Daemon, status: str) -> list[dict[str, Any]]:
    with daemon.client() as http:
        return list(http.get("/sessions", params={"status": status}).json())


def test_the_installed_kernelspec_names_the_kernel_module_and_the_daemon(
    jupyter_prefix: Path, daemon: Daemon
) -> None:
    spec = KernelSpecManager().get_kernel_spec("vm-system")
    assert spec.argv[1:3] == ["-m", "vmsystem.cli.jupyter"]
    assert spec.language == "javascript"
    assert spec.env["VMSYSTEM_SERVER_URL"] == daemon.url
    assert spec.env["VMSYSTEM_KERNEL_TEMPLATE"] == "kernel-tests"


def test_nbclient_runs_a_notebook_with_state_streams_errors_and_display(
    jupyter_prefix: Path, daemon: Daemon, kernel_cwd: Path
) -> None:
    with daemon.client() as http:
        http.post("/templates", json={"name": "kernel-tests"})
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "vm-system",
        "display_name": "JS",
        "language": "javascript",
    }
    nb.cells = [
        nbformat.v4.new_code_cell("const a = 20"),
        nbformat.v4.new_code_cell("a + 22"),
        nbformat.v4.new_code_cell("console.log('hi'); console.error('oops')"),
        nbformat.v4.new_code_cell(f"display({{'image/svg+xml': '{SVG}', 'text/plain': 'chart'}})"),
        nbformat.v4.new_code_cell("throw new Error('x')"),
        nbformat.v4.new_code_cell("Promise.reject(new Error('lost')); 5"),
    ]
    client = NotebookClient(
        nb,
        kernel_name="vm-system",
        timeout=60,
        allow_errors=True,
        resources={"metadata": {"path": str(kernel_cwd)}},
    )
    closed_before = {s["id"] for s in _sessions(daemon, "closed")}
    client.execute()
    outputs = [cell.outputs for cell in nb.cells]
    assert outputs[0] == []
    assert outputs[1][0]["output_type"] == "execute_result"
    assert outputs[1][0]["data"]["text/plain"] == "42"
    streams = {o["name"]: o["text"] for o in outputs[2]}
    assert streams == {"stdout": "hi\n", "stderr": "oops\n"}
    assert outputs[3][0]["output_type"] == "display_data"
    assert outputs[3][0]["data"]["image/svg+xml"] == SVG
    assert outputs[4][0]["output_type"] == "error"
    assert outputs[4][0]["ename"] == "Error"
    assert outputs[4][0]["evalue"] == "x"
    # An unhandled rejection: the cell's result, then the rejection as its error.
    assert [o["output_type"] for o in outputs[5]] == ["execute_result", "error"]
    assert outputs[5][0]["data"]["text/plain"] == "5"
    assert outputs[5][1]["evalue"] == "lost"
    # The kernel shut down with the notebook: its session, in a managed worktree, is closed.
    (closed,) = [s for s in _sessions(daemon, "closed") if s["id"] not in closed_before]
    assert closed["worktree_managed"] is True
    # A notebook's session is interactive: the daemon's --interactive-idle-timeout applied.
    assert closed["idle_timeout_s"] == 3600


def test_a_notebook_dir_kernel_imports_the_notebooks_own_modules(
    jupyter_prefix: Path, daemon: Daemon, kernel_cwd: Path
) -> None:
    install_kernel(daemon.url, jupyter_prefix, "--name", "vm-system-nb", "--notebook-dir")
    (kernel_cwd / "util.mjs").write_text("export const answer = 42;\n")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "vm-system-nb",
        "display_name": "JS",
        "language": "javascript",
    }
    nb.cells = [nbformat.v4.new_code_cell("(await import('./util.mjs')).answer")]
    NotebookClient(
        nb,
        kernel_name="vm-system-nb",
        timeout=60,
        resources={"metadata": {"path": str(kernel_cwd)}},
    ).execute()
    assert nb.cells[0].outputs[0]["data"]["text/plain"] == "42"


def test_a_notebook_cell_error_stops_nbclient_like_any_kernel(
    jupyter_prefix: Path, daemon: Daemon, kernel_cwd: Path
) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "vm-system",
        "display_name": "JS",
        "language": "javascript",
    }
    nb.cells = [nbformat.v4.new_code_cell("null.x"), nbformat.v4.new_code_cell("1")]
    client = NotebookClient(
        nb,
        kernel_name="vm-system",
        timeout=60,
        resources={"metadata": {"path": str(kernel_cwd)}},
    )
    with pytest.raises(CellExecutionError, match="TypeError"):
        client.execute()


@pytest.fixture
def kernel(jupyter_prefix: Path, kernel_cwd: Path) -> Iterator[Any]:
    manager = KernelManager(kernel_name="vm-system")
    manager.start_kernel(cwd=str(kernel_cwd))
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    try:
        yield manager, client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=False)


def _execute(
    client: Any, code: str, timeout: float = 60
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    msg_id = client.execute(code)
    outputs: list[dict[str, Any]] = []
    while True:
        msg = client.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
        if msg["msg_type"] in ("stream", "execute_result", "display_data", "error"):
            outputs.append({"type": msg["msg_type"], **msg["content"]})
    return _reply(client, msg_id, timeout), outputs


def _reply(client: Any, msg_id: str, timeout: float = 60) -> dict[str, Any]:
    """The shell reply to ``msg_id`` (skipping replies to earlier requests)."""
    while True:
        reply = client.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            return dict(reply["content"])


def test_interrupting_an_endless_cell_cancels_it_and_the_kernel_keeps_its_state(
    kernel: Any, daemon: Daemon
) -> None:
    manager, client = kernel
    with daemon.client() as http:
        http.post("/templates", json={"name": "kernel-tests"})
        http.patch(
            "/templates/kernel-tests",
            json={"settings": {"limits": {"wall_ms": 60000, "cpu_ms": 60000}}},
        )
    reply, _ = _execute(client, "globalThis.kept = 41")
    assert reply["status"] == "ok"
    msg_id = client.execute("while (true) {}")

    def running() -> bool:
        with daemon.client() as http:
            summary = http.get("/runtime/summary").json()
        return bool(summary["running_executions"])

    wait_for(running, timeout=30)
    manager.interrupt_kernel()
    assert _reply(client, msg_id, timeout=30)["status"] == "error"
    reply, outputs = _execute(client, "kept + 1")
    assert reply["status"] == "ok"
    assert [o["data"]["text/plain"] for o in outputs if o["type"] == "execute_result"] == ["42"]


def test_kernel_info_is_complete_and_restart_keep_the_session(kernel: Any, daemon: Daemon) -> None:
    manager, client = kernel
    with daemon.client() as http:
        http.post("/templates", json={"name": "kernel-tests"})
    info = client.kernel_info(reply=True, timeout=30)["content"]
    assert info["language_info"]["name"] == "javascript"
    assert info["implementation"] == "vm-system"
    assert _reply(client, client.is_complete("function f() {"))["status"] == "incomplete"
    assert _reply(client, client.is_complete("1 + 1"))["status"] == "complete"
    completed = _reply(client, client.complete("Math.ma", 7))
    assert "max" in completed["matches"]
    assert (completed["cursor_start"], completed["cursor_end"]) == (5, 7)
    reply, _ = _execute(client, "globalThis.before = 1; 1")
    assert reply["status"] == "ok"
    ready_before = {s["id"] for s in _sessions(daemon, "ready")}
    manager.restart_kernel(now=False)
    client.wait_for_ready(timeout=60)
    reply, outputs = _execute(client, "typeof before")
    assert reply["status"] == "ok"
    # A restart is a session restart: a fresh runtime, the same session id.
    assert [o["data"]["text/plain"] for o in outputs if o["type"] == "execute_result"] == [
        "'undefined'"
    ]
    ready_after = {s["id"] for s in _sessions(daemon, "ready")}
    assert ready_before & ready_after


def test_an_unreachable_daemon_is_an_error_output_not_a_dead_kernel(
    jupyter_prefix: Path, kernel_cwd: Path
) -> None:
    install_kernel("http://127.0.0.1:9", jupyter_prefix, "--name", "vm-system-down")
    manager = KernelManager(kernel_name="vm-system-down")
    manager.start_kernel(cwd=str(kernel_cwd))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        reply, outputs = _execute(client, "1")
        assert reply["status"] == "error"
        assert [o["ename"] for o in outputs if o["type"] == "error"] == ["DaemonUnavailable"]
        assert manager.is_alive()
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_a_typescript_kernel_runs_typescript_cells(
    jupyter_prefix: Path, daemon: Daemon, kernel_cwd: Path
) -> None:
    install_kernel(daemon.url, jupyter_prefix, "--language", "typescript")
    spec = KernelSpecManager().get_kernel_spec("vm-system-ts")
    assert spec.language == "typescript"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "vm-system-ts",
        "display_name": "TS",
        "language": "typescript",
    }
    nb.cells = [
        nbformat.v4.new_code_cell("interface P { n: number }\nconst p: P = { n: 21 }"),
        nbformat.v4.new_code_cell("p.n * 2"),
    ]
    NotebookClient(
        nb,
        kernel_name="vm-system-ts",
        timeout=60,
        resources={"metadata": {"path": str(kernel_cwd)}},
    ).execute()
    assert nb.cells[1].outputs[0]["data"]["text/plain"] == "42"
