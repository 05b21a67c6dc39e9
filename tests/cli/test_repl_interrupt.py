"""Ctrl-C while the REPL is still sending an input (before the daemon's answer) keeps the
REPL: an input the daemon started is cancelled, one it never got is reported as interrupted,
and the session takes the next input (a real daemon; the interrupt is raised where the
terminal's SIGINT would land)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vmsystem import client as sdk
from vmsystem.cli.repl import Repl

from .daemon import Daemon, running_daemon

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    with running_daemon(tmp_path_factory.mktemp("daemon")) as running:
        yield running


@pytest.fixture
def vm(daemon: Daemon) -> Iterator[sdk.Client]:
    with sdk.Client(daemon.url) as client:
        yield client


@pytest.fixture
def session(vm: sdk.Client, tmp_path: Path) -> Iterator[str]:
    template = vm.create_template(f"interrupt-{uuid.uuid4().hex[:8]}")
    created = vm.create_session(template["id"], str(tmp_path))
    yield created["id"]
    vm.close_session(created["id"])


class InterruptedClient(sdk.Client):
    """A client whose next run_repl is interrupted after (or instead of) sending it."""

    sent: bool = True

    def run_repl(self, session_id: str, input: str, **options: Any) -> sdk.types.Execution:
        if self.sent:
            super().run_repl(session_id, input, **options)
        raise KeyboardInterrupt


def wait_status(vm: sdk.Client, execution_id: str, status: str) -> None:
    deadline = time.monotonic() + 60
    while vm.get_execution(execution_id)["status"] != status:
        assert time.monotonic() < deadline, f"{execution_id} never became {status}"
        time.sleep(0.05)


def test_ctrl_c_before_the_answer_cancels_the_started_input(
    daemon: Daemon, vm: sdk.Client, session: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with InterruptedClient(daemon.url) as interrupted:
        Repl(interrupted, session).evaluate("while (true) {}")
    started = vm.list_executions(session, limit=1)[0]
    assert started["input"] == "while (true) {}"
    wait_status(vm, started["id"], "cancelled")
    assert f"Cancelled execution: {started['id']}" in capsys.readouterr().err
    assert vm.run_repl(session, "1 + 1")["result"]["preview"] == "2"


def test_ctrl_c_before_the_input_is_sent_says_so(
    daemon: Daemon, vm: sdk.Client, session: str, capsys: pytest.CaptureFixture[str]
) -> None:
    vm.run_repl(session, "let kept = 41")
    with InterruptedClient(daemon.url) as interrupted:
        interrupted.sent = False
        Repl(interrupted, session).evaluate("kept = 0")
    assert "Interrupted before the input started" in capsys.readouterr().err
    assert vm.run_repl(session, "kept + 1")["result"]["preview"] == "42"
