"""What a new user still tripped over in the CLI (issue 29), against a real daemon: whole ids in
terminal tables, one result line per run on a terminal, positional names, purge of a live
session, cancel of a finished execution, fork divergence details, search after a purge."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from vmsystem import client as sdk

from .daemon import Daemon, running_daemon

pytestmark = pytest.mark.e2e

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    with running_daemon(tmp_path_factory.mktemp("daemon")) as running:
        yield running


@pytest.fixture
def vm(daemon: Daemon) -> Iterator[sdk.Client]:
    with sdk.Client(daemon.url) as client:
        yield client


@pytest.fixture
def template(daemon: Daemon) -> str:
    name = f"newuser-{uuid.uuid4().hex[:8]}"
    daemon.cli("template", "create", "--name", name, check=True)
    return name


@pytest.fixture
def session(vm: sdk.Client, template: str, tmp_path: Path) -> Iterator[str]:
    sid = vm.create_session(template, str(tmp_path))["id"]
    yield sid
    try:
        if vm.get_session(sid)["status"] == "ready":
            vm.close_session(sid)
    except sdk.SessionNotFound:
        pass  # purged by the test


def on_terminal(daemon: Daemon, *args: str, columns: int = 120) -> list[str]:
    """Run a CLI command under a pseudo-terminal of ``columns`` columns; its output lines."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VMSYSTEM_")}
    env["COLUMNS"] = str(columns)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "vmsystem", "--server-url", daemon.url, *args],
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(40, columns),
    )
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return ANSI.sub("", str(child.before)).replace("\r\n", "\n").splitlines()


def test_terminal_tables_show_whole_ids_at_120_columns(
    daemon: Daemon, vm: sdk.Client, session: str
) -> None:
    long_input = "'needle' + " + " + ".join(f"'{i}'" for i in range(40))
    ran = vm.run_repl(session, long_input)
    listed = "\n".join(on_terminal(daemon, "exec", "list", session))
    assert ran["id"] in listed
    found = "\n".join(on_terminal(daemon, "exec", "search", "needle"))
    assert ran["id"] in found and session in found
    assert max(len(line) for line in found.splitlines()) <= 120


def test_a_run_on_a_terminal_shows_its_result_and_its_error_once(
    daemon: Daemon, session: str
) -> None:
    ok = on_terminal(daemon, "exec", "repl", session, "40 + 2")
    assert [line for line in ok if line.endswith(" 42")] == ["=> 42"]
    failed = on_terminal(daemon, "exec", "repl", session, "throw new RangeError('too far')")
    shown = [line for line in failed if "too far" in line and not line.startswith(">")]
    assert shown == ["Uncaught RangeError: too far"]
    followed = on_terminal(daemon, "exec", "repl", session, "6 * 7", "--follow")
    assert [line for line in followed if line.endswith(" 42")] == ["=> 42"]


def test_add_library_and_add_capability_take_positional_names(
    daemon: Daemon, vm: sdk.Client, template: str
) -> None:
    added = daemon.cli(
        "template",
        "add-capability",
        template,
        "exec:run",
        "--config",
        '{"allow": ["ls"]}',
        check=True,
    )
    assert added.stdout == f"Added capability: exec:run to template {template}\n"
    daemon.cli("template", "add-capability", template, "write", "--kind", "fs", check=True)
    tid = next(t["id"] for t in vm.list_templates() if t["name"] == template)
    kinds = {(c["kind"], c["name"]) for c in vm.list_capabilities(tid)}
    assert {("exec", "run"), ("fs", "write")} <= kinds
    library = daemon.cli("template", "add-library", template, "lodash", check=True)
    assert library.stdout == f"Added library: lodash to template {template}\n"
    daemon.cli("template", "add-module", template, "fs", check=True)
    assert daemon.cli("template", "list-modules", template, check=True).stdout == "fs\n"
    daemon.cli("template", "remove-library", template, "lodash", check=True)
    assert vm.list_libraries(tid) == []
    both = daemon.cli("template", "add-module", template, "fs", "--name", "exec")
    assert both.returncode == 2 and "give the name once" in both.stderr
    missing = daemon.cli("template", "add-library", template)
    assert missing.returncode == 2 and "missing name" in missing.stderr


def test_delete_purge_force_closes_and_purges_a_ready_session(
    daemon: Daemon, vm: sdk.Client, session: str
) -> None:
    vm.run_repl(session, "1")
    refused = daemon.cli("session", "delete", "--purge", session)
    assert refused.returncode == 1 and "SESSION_ACTIVE" in refused.stderr
    purged = daemon.cli("session", "delete", "--purge", "--force", session, check=True)
    assert purged.stdout == f"Purged session: {session}\n"
    with pytest.raises(sdk.SessionNotFound):
        vm.get_session(session)
    lone = daemon.cli("session", "delete", "--force", session)
    assert lone.returncode == 2 and "--force only applies with --purge" in lone.stderr


def test_cancel_of_a_finished_execution_says_there_was_nothing_to_cancel(
    daemon: Daemon, vm: sdk.Client, session: str
) -> None:
    done = vm.run_repl(session, "1")
    answer = daemon.cli("exec", "cancel", done["id"], check=True)
    assert answer.stdout.splitlines() == [
        f"Execution ID: {done['id']}",
        "Status: ok",
        'Result: {"type":"number","preview":"1","inspect":"1","json":1}',
    ]
    assert "Nothing to cancel: the execution had already ended (ok)" in answer.stderr
    running = vm.run_repl(session, "while (true) {}", stream=True)
    cancelled = daemon.cli("exec", "cancel", running["id"], check=True)
    assert "Status: cancelled" in cancelled.stdout
    assert "Nothing to cancel" not in cancelled.stderr


def test_fork_shows_the_diverging_input_and_both_values(
    daemon: Daemon, vm: sdk.Client, session: str
) -> None:
    vm.run_repl(session, "globalThis.base = 40")
    random = vm.run_repl(session, "Math.random()")
    shown = daemon.cli("session", "fork", session, check=True).stdout.splitlines()
    at = next(i for i, line in enumerate(shown) if line.startswith(f"diverged: {random['id']}"))
    assert shown[at + 1] == "  input:    Math.random()"
    original = random["result"]["inspect"]  # type: ignore[index]
    assert shown[at + 2] == f"  original: {original}"
    replay = shown[at + 3]
    assert replay.startswith("  replay:   0.") and replay != f"  replay:   {original}"
    fork_id = UUID.findall(shown[0])[0]
    vm.close_session(fork_id)


def test_purging_one_session_keeps_the_other_sessions_runs_searchable(
    daemon: Daemon, vm: sdk.Client, template: str, tmp_path: Path
) -> None:
    word = f"tick{uuid.uuid4().hex[:6]}"
    a = vm.create_session(template, str(tmp_path))["id"]
    b = vm.create_session(template, str(tmp_path))["id"]
    vm.run_repl(a, f"'{word} a'")
    kept = vm.run_repl(b, f"'{word} b'")
    daemon.cli("session", "delete", "--purge", "--force", a, check=True)
    found = daemon.cli("exec", "search", word, check=True).stdout
    assert kept["id"] in found
    assert "cannot index" not in daemon.log.read_text()
    vm.close_session(b)


def test_gathered_runs_on_one_session_raise_session_busy_as_docs_sdk_md_says(
    daemon: Daemon, vm: sdk.Client, template: str, tmp_path: Path
) -> None:
    daemon.cli("template", "set-limits", template, "--wall-ms", "600000", check=True)
    sid = vm.create_session(template, str(tmp_path))["id"]

    async def gather() -> list[object]:
        async with sdk.AsyncClient(daemon.url) as avm:
            first = await avm.run_repl(sid, "while (true) {}", stream=True)
            results = await asyncio.gather(
                *(avm.run_repl(sid, "1") for _ in range(2)), return_exceptions=True
            )
            await avm.cancel_execution(first["id"])
            return [first, *results]

    first, *refused = asyncio.run(gather())
    assert all(isinstance(r, sdk.SessionBusy) for r in refused), refused
    assert all(r.execution_id == first["id"] for r in refused)  # type: ignore[attr-defined,index]
    from vmsystem.client import APIError, ClientError, DaemonUnavailable, SessionBusy

    assert issubclass(SessionBusy, APIError) and issubclass(DaemonUnavailable, ClientError)
    vm.close_session(sid)
