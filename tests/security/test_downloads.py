"""Library downloads of a real daemon cannot be turned into a process flood: one ``npm pack``
per library however many jobs ask for it, a cap on npm processes at once, and a cancel that
kills npm and everything it started.

npm is replaced by a script first on the daemon's PATH that records each run (and the npm
processes alive when it started), starts a child of its own, and then waits.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Daemon, free_port
from tests.security.test_http import TOKEN
from vmsystem.core.downloads import MAX_NPM_PROCESSES

pytestmark = pytest.mark.e2e

NPM = r"""
import json, os, subprocess, sys, time
state = os.environ["SLOW_NPM_DIR"]
def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
others = [int(p[:-4]) for p in os.listdir(state) if p.endswith(".npm")]
running = 1 + sum(1 for p in others if alive(p))
child = subprocess.Popen(["sleep", "600"])
with open(os.path.join(state, f"{os.getpid()}.npm"), "w") as f:
    json.dump({"spec": sys.argv[2], "running": running, "child": child.pid}, f)
seconds = float(open(os.path.join(state, "seconds")).read())
time.sleep(seconds)
child.kill()
sys.stderr.write("npm error code E404\n")
sys.exit(1)
"""


@pytest.fixture(scope="module")
def npm_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("slow-npm")


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory, npm_state: Path) -> Iterator[Daemon]:
    root = tmp_path_factory.mktemp("downloads-daemon")
    bin_dir = root / "bin"
    bin_dir.mkdir()
    script = bin_dir / "npm"
    script.write_text(f"#!{sys.executable}\n{NPM}")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    (root / "cache").mkdir()
    d = Daemon(
        db=root / "vm.db",
        cache_dir=root / "cache",
        log=root / "daemon.log",
        port=free_port(),
        token=TOKEN,
        env={
            "VMSYSTEM_AUTH_TOKEN": TOKEN,
            "SLOW_NPM_DIR": str(npm_state),
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        },
    ).start()
    yield d
    d.terminate()


def _runs(state: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in state.glob("*.npm") if p.stat().st_size]


def _alive(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_for(what: str, check: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _start(c: httpx.Client, names: list[str]) -> str:
    r = c.post("/libraries/downloads", json={"names": names})
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def _finished(c: httpx.Client, ids: list[str]) -> bool:
    return all(c.get(f"/libraries/downloads/{i}").json()["status"] != "running" for i in ids)


def _reset(state: Path, seconds: float) -> None:
    for p in state.glob("*.npm"):
        p.unlink()
    (state / "seconds").write_text(str(seconds))


def test_many_jobs_for_one_library_run_one_npm_and_npm_processes_are_capped(
    daemon: Daemon, npm_state: Path
) -> None:
    _reset(npm_state, 2)
    with daemon.client() as c:
        ids = [_start(c, ["lodash"]) for _ in range(50)]
        ids += [_start(c, [name]) for name in ("dayjs", "ramda", "moment", "axios")]
        ids.append(_start(c, ["lodash", "dayjs", "ramda", "moment", "axios"]))
        _wait_for("every job to end", lambda: _finished(c, ids))
        jobs = [c.get(f"/libraries/downloads/{i}").json() for i in ids]
    runs = _runs(npm_state)
    specs = sorted(str(r["spec"]) for r in runs)
    # The combined job asks again once the first fetches have failed: at most twice each.
    assert specs.count("lodash@4.17.21") <= 2, specs
    assert len(runs) <= 10, specs
    assert max(int(str(r["running"])) for r in runs) <= MAX_NPM_PROCESSES, runs
    assert {j["status"] for j in jobs} == {"failed"}


def test_cancel_kills_npm_and_what_it_started(daemon: Daemon, npm_state: Path) -> None:
    _reset(npm_state, 600)
    with daemon.client() as c:
        first = _start(c, ["moment"])
        second = _start(c, ["moment"])
        _wait_for("npm to start", lambda: len(_runs(npm_state)) == 1)
        (run,) = _runs(npm_state)
        (npm_pid,) = [int(p.stem) for p in npm_state.glob("*.npm")]
        child = int(str(run["child"]))
        assert _alive(npm_pid) and _alive(child)
        # Another job still waits for the same npm: it goes on.
        assert c.post(f"/libraries/downloads/{first}/cancel").json()["status"] == "cancelled"
        assert c.get(f"/libraries/downloads/{second}").json()["status"] == "running"
        assert _alive(npm_pid)
        assert c.post(f"/libraries/downloads/{second}/cancel").json()["status"] == "cancelled"
        _wait_for("npm and its child to die", lambda: not _alive(npm_pid) and not _alive(child))
