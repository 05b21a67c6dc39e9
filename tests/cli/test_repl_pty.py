"""``vm-system repl`` under a pseudo-terminal (pexpect) against a real daemon process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from vmsystem import client as sdk

from .daemon import Daemon, running_daemon

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    with running_daemon(tmp_path_factory.mktemp("daemon")) as running:
        yield running


@pytest.fixture(scope="module")
def template(daemon: Daemon) -> str:
    name = f"repl-{uuid.uuid4().hex[:8]}"
    daemon.cli("template", "create", "--name", name, check=True)
    return name


@pytest.fixture
def session(daemon: Daemon, template: str, tmp_path: Path) -> Iterator[str]:
    with sdk.Client(daemon.url) as vm:
        created = vm.create_session(template, str(tmp_path))
        yield created["id"]
        vm.close_session(created["id"])


def spawn(daemon: Daemon, data_home: Path, *args: str) -> pexpect.spawn:
    env = {
        **os.environ,
        "XDG_DATA_HOME": str(data_home),
        "PROMPT_TOOLKIT_NO_CPR": "1",  # pexpect does not answer cursor-position requests
        "TERM": "xterm",
    }
    env.pop("VMSYSTEM_SERVER_URL", None)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "vmsystem", "--server-url", daemon.url, "repl", *args],
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 120),
    )
    child.expect("Type .help for commands")
    return child


def at_prompt(child: pexpect.spawn) -> None:
    """Wait until the prompt is drawn: prompt_toolkit enables bracketed paste once the
    terminal is in raw mode, where Ctrl-C and Ctrl-D are keys rather than signals."""
    child.expect_exact("\x1b[?2004h")


def latest_execution(daemon: Daemon, session_id: str) -> sdk.types.Execution:
    with sdk.Client(daemon.url) as vm:
        return vm.list_executions(session_id, limit=1)[0]


def test_interactive_repl_on_a_session(daemon: Daemon, session: str, tmp_path: Path) -> None:
    data_home = tmp_path / "data"
    child = spawn(daemon, data_home, session)

    child.sendline("1 + 41")
    child.expect("42\r\n")

    child.sendline("'text'")
    child.expect("'text'\r\n", timeout=30)  # a string result is quoted, as node shows it

    child.sendline("function greet(who) {")
    child.expect(r"\.\.\.")  # incomplete: a continuation line, nothing sent yet
    child.sendline("  return `hi ${who}` }")
    child.sendline("greet('vm')")
    child.expect("'hi vm'")

    child.sendline("for (let i = 0; i < 3; i++) console.log('line ' + i)")
    child.expect("line 0\r\nline 1\r\nline 2\r\nundefined\r\n")

    # Live console output: the first line is printed while the execution still runs, and
    # Ctrl-C cancels it without leaving the REPL.
    child.sendline("console.log('started'); while (true) {}")
    child.expect("started\r\n")  # the output line, not the echo of the input
    assert latest_execution(daemon, session)["status"] == "running"
    child.sendintr()
    child.expect("Cancelled execution: ")
    assert latest_execution(daemon, session)["status"] == "cancelled"

    child.sendline("function bad() { throw new TypeError('bad thing') }; bad()")
    child.expect(r"Uncaught TypeError: bad thing\r\n\s+at bad ")  # the stack on its own lines

    # An unhandled rejection: the input's result, then the rejection (as node's REPL).
    child.sendline("Promise.reject(new Error('lost')); 5")
    child.expect("5\r\nUncaught Error: lost")

    # Ctrl-C at the prompt clears the line (the REPL and the session's state stay).
    at_prompt(child)
    child.send("half typed")
    child.expect("half typed")
    child.sendintr()
    child.sendline("greet('again')")
    child.expect("'hi again'")

    child.sendline(".help")
    child.expect(r"\.restart")
    child.sendline(".restart")
    child.expect(["restart is not available", "Session restarted: "])
    child.sendline(".nope")
    child.expect("Unknown REPL command .nope")

    at_prompt(child)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    history_file = data_home / "vm-system" / "repl_history"
    assert history_file.stat().st_mode & 0o777 == 0o600
    history = history_file.read_text()
    assert "+1 + 41" in history
    assert "+function greet(who) {\n+  return `hi ${who}` }" in history, "one multi-line entry"


def test_repl_new_starts_a_session_of_a_template_and_closes_it(
    daemon: Daemon, template: str, tmp_path: Path
) -> None:
    (tmp_path / "data.txt").write_text("x")
    child = spawn(daemon, tmp_path / "data", "--new", "--template", template)
    found = re.search(r"Created session: ([0-9a-f-]{36})", child.before)
    assert found, child.before
    session_id = found.group(1)
    assert f"vm-system REPL on session {session_id} (template {template})" in child.before
    child.sendline("6 * 7")
    child.expect("42")
    child.sendline(".exit")
    child.expect(f"Closed session: {session_id}")
    child.expect(pexpect.EOF)
    with sdk.Client(daemon.url) as vm:
        closed = vm.get_session(session_id)
    assert closed["status"] == "closed"
    # An interactive session: the daemon's --interactive-idle-timeout (its default) applied.
    assert closed.get("idle_timeout_s") == 3600


def test_piped_input_runs_each_statement(daemon: Daemon, session: str) -> None:
    program = "const a = 40\nfunction add(x) {\n  return a + x\n}\nadd(2)\nconsole.log('done')\n"
    done = subprocess.run(
        [sys.executable, "-m", "vmsystem", "--server-url", daemon.url, "repl", session],
        input=program,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["undefined", "undefined", "42", "done", "undefined"]
    with sdk.Client(daemon.url) as vm:
        inputs = [e["input"] for e in vm.list_executions(session)][::-1]
    assert inputs == [
        "const a = 40",
        "function add(x) {\n  return a + x\n}",
        "add(2)",
        "console.log('done')",
    ]


def test_piped_typescript_input_with_the_language_flag(daemon: Daemon, session: str) -> None:
    program = "const n: number = 2\ninterface P { x: number }\nn * 21\n"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "vmsystem",
            "--server-url",
            daemon.url,
            "repl",
            session,
            "--language",
            "typescript",
        ],
        input=program,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["undefined", "undefined", "42"]


def new_session_id(child: pexpect.spawn) -> str:
    found = re.search(r"Created session: ([0-9a-f-]{36})", child.before)
    assert found, child.before
    return found.group(1)


def wait_closed(daemon: Daemon, session_id: str) -> None:
    with sdk.Client(daemon.url) as vm:
        for _ in range(600):
            if vm.get_session(session_id)["status"] == "closed":
                return
            time.sleep(0.1)
        raise AssertionError(f"session {session_id} is still {vm.get_session(session_id)}")


def test_tab_completes_names_from_the_session(daemon: Daemon, session: str, tmp_path: Path) -> None:
    child = spawn(daemon, tmp_path / "data", session)
    child.sendline("const myVariable = {depth: 40}")
    child.expect("undefined")
    at_prompt(child)
    child.send("Math.ma\t")
    child.expect_exact("x")  # the completion's rest is drawn after what was typed
    child.sendline("(1, 2)")
    child.expect("2\r\n")
    assert "Error" not in child.before  # Math.ma(1, 2) would be a TypeError
    at_prompt(child)
    child.send("myVar\t")
    child.expect_exact("iable")
    child.send(".dep\t")
    child.expect_exact("th")
    child.sendline(" + 2")
    child.expect("42\r\n")
    assert "Error" not in child.before
    child.sendline(".exit")
    child.expect(pexpect.EOF)


def test_a_syntax_error_shows_its_line_and_a_caret_under_its_column(
    daemon: Daemon, session: str, tmp_path: Path
) -> None:
    child = spawn(daemon, tmp_path / "data", session)
    child.sendline("let x = ;")
    # As node: the line of the input, `^` under the column, an empty line, the error.
    child.expect_exact("let x = ;\r\n        ^\r\n\r\nUncaught SyntaxError: Unexpected token ';'")
    script = tmp_path / "two-lines.js"
    script.write_text("const fine = 1;\nconst b = {a: 1,, }\n")
    child.sendline(f".load {script}")
    child.expect_exact("const b = {a: 1,, }\r\n                ^\r\n\r\nUncaught SyntaxError")
    child.sendline("null.prop")  # not a syntax error: no caret
    child.expect_exact("Uncaught TypeError: Cannot read properties of null")
    assert "^" not in child.before
    child.sendline(".exit")
    child.expect(pexpect.EOF)


def test_a_session_closed_by_its_idle_timeout_says_why_at_the_next_input(
    daemon: Daemon, template: str, tmp_path: Path
) -> None:
    with sdk.Client(daemon.url) as vm:
        session_id = vm.create_session(template, str(tmp_path), idle_timeout_s=1)["id"]
        child = spawn(daemon, tmp_path / "data", session_id)
        deadline = time.monotonic() + 60
        while vm.get_session(session_id)["status"] != "closed":
            assert time.monotonic() < deadline, "the idle session was not closed"
            time.sleep(0.2)
    child.sendline("1 + 1")
    child.expect_exact(
        "The session is closed (closed after 1 s without activity (idle timeout)): .exit"
    )
    child.sendline(".exit")
    child.expect(pexpect.EOF)


def test_ctrl_c_twice_on_an_empty_line_leaves(daemon: Daemon, session: str, tmp_path: Path) -> None:
    child = spawn(daemon, tmp_path / "data", session)
    at_prompt(child)
    child.sendintr()
    child.expect_exact("(To exit, press Ctrl-C again or Ctrl-D or type .exit)")
    at_prompt(child)
    child.send("typed")  # a Ctrl-C on a typed line clears it and disarms the exit
    child.expect("typed")
    child.sendintr()
    at_prompt(child)
    child.sendintr()
    child.expect_exact("(To exit, press Ctrl-C again")
    at_prompt(child)
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_editor_load_and_save(daemon: Daemon, session: str, tmp_path: Path) -> None:
    script = tmp_path / "script.js"
    script.write_text("const fromFile = 20;\nfromFile + 1\n")
    saved = tmp_path / "saved.js"
    child = spawn(daemon, tmp_path / "data", session)
    child.sendline(".editor")
    child.expect_exact("Entering editor mode")
    child.send("const a = 40\r")
    child.send("a + 2\r")
    child.send("\x04")  # Ctrl-D runs it
    child.expect("42\r\n")
    child.sendline(f".load {script}")
    child.expect("21\r\n")
    child.sendline(f".save {saved}")
    child.expect_exact(f"Session saved to: {saved}")
    child.sendline(".exit")
    child.expect(pexpect.EOF)
    assert saved.read_text() == "const a = 40\na + 2\nconst fromFile = 20;\nfromFile + 1\n"


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_a_repl_new_session_is_closed_when_the_repl_is_signalled(
    daemon: Daemon, template: str, tmp_path: Path, signum: int
) -> None:
    child = spawn(daemon, tmp_path / "data", "--new", "--template", template)
    session_id = new_session_id(child)
    at_prompt(child)
    child.kill(signum)
    wait_closed(daemon, session_id)
    child.expect(pexpect.EOF)
