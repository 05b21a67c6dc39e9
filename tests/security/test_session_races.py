"""Changes of one session's state sent together to a real daemon (close, restart and a run,
100 times): whatever order they are carried out in, the session ends closed (with
``closed_at``), is not counted live, runs nothing more, and no execution stays ``running``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Daemon
from tests.security.test_http import _session, _start

pytestmark = pytest.mark.e2e

ROUNDS = 100


@pytest.fixture(scope="module", params=["process", "ray"])
def daemon(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Daemon]:
    """A daemon on process hosts, or on Ray hosts (restart boots a runtime on the host)."""
    hosts: tuple[str, ...] = ("--hosts", "process")
    if request.param == "ray":
        hosts = ("--hosts", "ray", "--ray-address", request.getfixturevalue("ray_cluster"))
    d = _start(tmp_path_factory.mktemp(f"races-{request.param}"), "--max-sessions", "4", *hosts)
    yield d
    code, _ = d.terminate()
    assert code == 0, d.output()


def _together(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Send each call from its own thread, released at the same moment."""
    gate = threading.Barrier(len(calls))
    answers: list[httpx.Response | None] = [None] * len(calls)

    def send(index: int) -> None:
        gate.wait()
        answers[index] = calls[index]()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(a is not None for a in answers)
    return answers  # type: ignore[return-value]


def test_close_restart_and_run_sent_together_always_end_closed(
    daemon: Daemon, worktree: Path
) -> None:
    with daemon.client() as c, daemon.client() as c2, daemon.client() as c3:
        for round_ in range(ROUNDS):
            sid = _session(c, worktree)["id"]
            close, restart, run = _together(
                lambda sid=sid: c.post(f"/sessions/{sid}/close"),
                lambda sid=sid: c2.post(f"/sessions/{sid}/restart"),
                lambda sid=sid: c3.post(
                    "/executions/repl", json={"session_id": sid, "input": "globalThis.k = 1"}
                ),
            )
            where = f"round {round_}: {close.text} | {restart.text} | {run.text}"
            assert close.status_code == 200 and close.json()["status"] == "closed", where
            assert restart.status_code in (200, 409), where
            if restart.status_code == 200:
                assert restart.json()["status"] == "ready", where
            else:
                code = restart.json()["error"]["code"]
                assert code in ("SESSION_NOT_READY", "SESSION_BUSY"), where
            assert run.status_code in (201, 409), where
            session = c.get(f"/sessions/{sid}").json()
            assert session["status"] == "closed" and session["closed_at"], (where, session)
            assert "host_id" not in session or session["host_id"] is None, session
            live = c.get("/runtime/summary").json()["active_session_ids"]
            assert sid not in live, where
            again = c.post("/executions/repl", json={"session_id": sid, "input": "1"})
            assert again.status_code == 409, (where, again.text)
            runs = c.get("/executions", params={"session_id": sid}).json()
            items = runs["items"] if isinstance(runs, dict) else runs
            assert all(e["status"] != "running" for e in items), (where, items)
