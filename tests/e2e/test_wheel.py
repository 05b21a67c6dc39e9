"""The wheel on its own: built from this tree (sdist first, then the wheel from the sdist, as
``make dist`` does), installed into a fresh virtualenv, and run with no Node.js on PATH and
nothing of this checkout importable. It must serve the built UI, answer the API and run a
REPL snippet.

Building needs the web UI built in this checkout (``make install`` or ``make ui``); pip takes
the dependencies from the configured index.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 30.0


def run(args: list[str], timeout: float = 300, **kwargs: Any) -> str:
    """Run a command to completion; fail the test with its output when it fails."""
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, (
        f"{args} exited {result.returncode}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return str(result.stdout)


@dataclass
class Installed:
    wheel: Path
    sdist: Path
    venv: Path
    env: dict[str, str]
    seconds: float

    @property
    def bin(self) -> Path:
        return self.venv / "bin"


def clean_env(venv: Path) -> dict[str, str]:
    """The test's environment less PYTHONPATH and VMSYSTEM_*, with only the venv on PATH."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("VMSYSTEM_") and k != "PYTHONPATH"
    }
    env["PATH"] = str(venv / "bin")
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    started = time.monotonic()
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(REPO)])
    (wheel,) = dist.glob("vm_system-*.whl")
    (sdist,) = dist.glob("vm_system-*.tar.gz")
    venv = root / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    env = clean_env(venv)
    run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], env=env, cwd=root)
    seconds = time.monotonic() - started
    print(f"wheel built and installed in {seconds:.1f} s")
    return Installed(wheel, sdist, venv, env, seconds)


@pytest.fixture(scope="module")
def daemon_url(installed: Installed) -> Iterator[str]:
    work = installed.venv.parent / "run"
    work.mkdir()
    port = free_port()
    log = work / "daemon.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(installed.bin / "vm-system"),
                "serve",
                "--listen",
                f"127.0.0.1:{port}",
                "--db",
                str(work / "vm.db"),
                "--cache-dir",
                str(work / "cache"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=installed.env,
            cwd=work,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            assert process.poll() is None, f"daemon exited:\n{log.read_text()}"
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"daemon not healthy:\n{log.read_text()}"
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        assert process.wait(timeout=15) == 0, log.read_text()


def test_wheel_holds_the_built_ui_and_the_runtime_javascript(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    assert "vmsystem/web/static/index.html" in names
    assets = [n for n in names if n.startswith("vmsystem/web/static/assets/")]
    assert any(n.endswith(".js") for n in assets), assets
    assert any(n.endswith(".css") for n in assets), assets
    runtime_js = {
        p.relative_to(REPO).as_posix() for p in (REPO / "vmsystem/runtime/js").rglob("*.js")
    }
    assert "vmsystem/runtime/js/prelude/1-primordials.js" in runtime_js
    assert "vmsystem/runtime/js/bundle-webapi.js" in runtime_js
    assert runtime_js <= names, runtime_js - names
    assert "vmsystem/py.typed" in names
    assert any(n.startswith("vmsystem/store/migrations/") for n in names)


def test_sdist_holds_the_built_ui_so_a_wheel_built_from_it_is_complete(
    installed: Installed,
) -> None:
    import tarfile

    with tarfile.open(installed.sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert "vmsystem/web/static/index.html" in names
    assert "vmsystem/runtime/js/prelude/1-primordials.js" in names
    assert "vmsystem/runtime/js/bundle-repl.js" in names
    assert "setup.py" in names


def test_installed_package_runs_from_the_venv_without_node(installed: Installed) -> None:
    assert shutil.which("node", path=installed.env["PATH"]) is None
    where = run(
        [str(installed.bin / "python"), "-c", "import vmsystem; print(vmsystem.__file__)"],
        env=installed.env,
        cwd=installed.venv,
    )
    assert Path(where.strip()).is_relative_to(installed.venv)


def test_version_comes_from_the_package_metadata(installed: Installed) -> None:
    version = installed.wheel.name.split("-")[1]
    out = run([str(installed.bin / "vm-system"), "--version"], env=installed.env)
    assert out == f"vm-system {version}\n"


def test_serve_answers_the_ui_the_api_and_a_repl_snippet(daemon_url: str, tmp_path: Path) -> None:
    page = httpx.get(f"{daemon_url}/", timeout=10)
    assert page.status_code == 200
    assert '<div id="root">' in page.text
    assert "has not been built" not in page.text
    script = page.text.split('src="', 1)[1].split('"', 1)[0]
    assert script.startswith("/assets/")
    assert httpx.get(f"{daemon_url}{script}", timeout=10).status_code == 200

    # X-Requested-With as the SDK sends it (bodyless POSTs need it: the CSRF defence).
    headers = {"X-Requested-With": "tests"}
    with httpx.Client(base_url=f"{daemon_url}/api/v1", timeout=30, headers=headers) as http:
        assert http.get("/health").json() == {"status": "ok"}
        r = http.post("/templates", json={"name": "wheel"})
        assert r.status_code == 201, r.text
        r = http.post(
            "/sessions", json={"template_id": r.json()["id"], "worktree_path": str(tmp_path)}
        )
        assert r.status_code == 201, r.text
        session_id = r.json()["id"]
        r = http.post("/executions/repl", json={"session_id": session_id, "input": "1+1"})
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "ok"
        assert r.json()["result"]["json"] == 2
        assert http.post(f"/sessions/{session_id}/close").status_code == 200


def test_packaging_without_the_built_ui_fails_and_says_how_to_build_it(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / name, tree / name)
    shutil.copytree(
        REPO / "vmsystem",
        tree / "vmsystem",
        ignore=shutil.ignore_patterns("static", "__pycache__"),
    )
    result = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", str(tmp_path / "dist"), str(tree)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "vmsystem/web/static/index.html is missing" in output
    assert "npm --prefix ui run build" in output
    assert not (tmp_path / "dist").exists() or not list((tmp_path / "dist").iterdir())
