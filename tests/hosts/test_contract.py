"""The session-host contract, on every backend: values, errors, state, limits, cancel,
console streaming, native modules inside the host."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from vmsystem.hosts import HostPool
from vmsystem.modules import Grant
from vmsystem.runtime import EngineBusy, OutcomeKind, RunLimits
from vmsystem.runtime.entries import module_entry, typescript_input

from .conftest import Lost, Sink, run, spec, value

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def worktree(tmp_path: Path) -> Path:
    root = tmp_path / "worktree"
    root.mkdir()
    (root / "hello.txt").write_text("hello from the worktree")
    return Path(os.path.realpath(root))


def test_a_runtime_returns_values_and_keeps_state_across_runs(pool: HostPool) -> None:
    rt = pool.start_runtime(spec(), Lost())
    try:
        assert rt.alive
        assert rt.host_id in {h.id for h in pool.hosts()}
        assert value(rt, "1+1") == 2
        assert value(rt, "({a: [1, 'two', null]})") == {"a": [1, "two", None]}
        run(rt, "globalThis.counter = 41; let kept = 'yes'")
        assert value(rt, "counter + 1") == 42
        assert value(rt, "kept") == "yes"
    finally:
        rt.close()
    assert not rt.alive
    rt.close()  # idempotent


def test_an_exception_is_reported_with_its_name_and_message(pool: HostPool) -> None:
    rt = pool.start_runtime(spec(), Lost())
    try:
        outcome = run(rt, "throw new TypeError('bad thing')")
        assert outcome.kind is OutcomeKind.EXCEPTION
        assert outcome.exception is not None
        assert outcome.exception["name"] == "TypeError"
        assert "bad thing" in outcome.exception["message"]
        assert value(rt, "'still usable'") == "still usable"
    finally:
        rt.close()


def test_a_syntax_error_reports_its_line_and_column(pool: HostPool) -> None:
    rt = pool.start_runtime(spec(), Lost())
    try:
        outcome = run(rt, "const ok = 1;\nconst b = {a: 1,, }")
        assert outcome.kind is OutcomeKind.EXCEPTION and outcome.exception is not None
        assert outcome.exception["name"] == "SyntaxError"
        assert (outcome.exception["line"], outcome.exception["column"]) == (2, 17)
    finally:
        rt.close()


def test_an_unhandled_rejection_fails_the_run_or_warns_as_the_spec_says(pool: HostPool) -> None:
    # V8's rejection hook lives next to the isolate, inside the host.
    rt = pool.start_runtime(spec(), Lost())
    warn = pool.start_runtime(spec(unhandled_rejections="warn"), Lost())
    try:
        code = "async function f() { throw new Error('lost') }; f(); 1"
        outcome = run(rt, code)
        assert outcome.kind is OutcomeKind.EXCEPTION
        assert outcome.exception is not None
        assert outcome.exception["message"] == "lost"
        assert outcome.exception["unhandled"] is True
        assert outcome.exception["result"]["inspect"] == "1"
        assert value(rt, "Promise.reject(new Error('x')).catch(() => {}); 'handled'") == "handled"
        sink = Sink()
        warned = run(warn, code, sink=sink)
        assert warned.kind is OutcomeKind.OK
        assert warned.value is not None and warned.value["inspect"] == "1"
        assert sink.texts == [
            "UnhandledPromiseRejectionWarning: Error: lost\n    at f (<anonymous>:1:28)"
        ]
    finally:
        rt.close()
        warn.close()


def test_wall_and_cpu_limits_stop_a_run_and_the_session_stays_usable(pool: HostPool) -> None:
    rt = pool.start_runtime(spec(), Lost())
    try:
        run(rt, "globalThis.before = 'kept'")
        wall = run(rt, "while (true) {}", RunLimits(wall_ms=300, cpu_ms=None))
        assert wall.kind is OutcomeKind.WALL_TIMEOUT
        cpu = run(rt, "while (true) {}", RunLimits(wall_ms=None, cpu_ms=300))
        assert cpu.kind is OutcomeKind.CPU_TIMEOUT
        assert value(rt, "before") == "kept"
    finally:
        rt.close()


def test_cancel_from_another_thread_stops_the_run(pool: HostPool) -> None:
    rt = pool.start_runtime(spec(), Lost())
    try:
        assert rt.cancel() is False  # nothing running
        sink = Sink()
        threading.Timer(0.1, lambda: sink.got_line.wait(10) and rt.cancel()).start()
        outcome = run(
            rt,
            "console.log('started'); while (true) {}",
            RunLimits(wall_ms=20000, cpu_ms=None),
            sink,
        )
        assert outcome.kind is OutcomeKind.CANCELLED
        assert value(rt, "2+2") == 4
    finally:
        rt.close()


def test_console_lines_stream_to_the_sink_before_the_run_ends(pool: HostPool) -> None:
    rt = pool.start_runtime(spec(), Lost())
    try:
        run(rt, "console.log('warm-up')")
        sink = Sink()
        code = "console.log('early'); const end = Date.now() + 500; while (Date.now() < end) {}; 7"
        outcome = run(rt, code, RunLimits(wall_ms=10000, cpu_ms=None), sink)
        ended = time.monotonic()
        assert outcome.kind is OutcomeKind.OK
        assert sink.texts == ["early"]
        assert sink.first_at is not None
        assert ended - sink.first_at > 0.2, "the line arrived only with the run's end"
    finally:
        rt.close()


def test_lone_surrogates_cross_from_the_host_unchanged(pool: HostPool) -> None:
    rt = pool.start_runtime(spec(), Lost())
    try:
        sink = Sink()
        outcome = run(rt, "console.log('a\\ud800'); ({s: '\\udc00b'})", sink=sink)
        assert outcome.kind is OutcomeKind.OK and outcome.value is not None
        assert outcome.value["json"] == {"s": "\udc00b"}
        assert sink.texts == ["a\ud800"]
        assert value(rt, "'\\udfff'") == "\udfff"
    finally:
        rt.close()


def test_two_sessions_of_one_host_run_concurrently(pool: HostPool) -> None:
    a = pool.start_runtime(spec(), Lost())
    b = pool.start_runtime(spec(), Lost())
    try:
        result: dict[str, object] = {}

        def slow() -> None:
            result["a"] = run(a, "const e = Date.now() + 800; while (Date.now() < e) {}; 'a'")

        thread = threading.Thread(target=slow)
        thread.start()
        time.sleep(0.2)
        started = time.monotonic()
        assert value(b, "'b'") == "b"
        quick = time.monotonic() - started
        thread.join(10)
        assert quick < 0.5, f"b waited {quick:.2f} s for a's run"
    finally:
        a.close()
        b.close()


def test_fs_module_reads_and_writes_inside_the_worktree_only(
    pool: HostPool, worktree: Path
) -> None:
    rt = pool.start_runtime(spec(worktree, modules=["fs"], grants=[Grant("fs", "write")]), Lost())
    try:
        assert value(rt, "require('fs').readFileSync('hello.txt')") == "hello from the worktree"
        run(rt, "require('fs').writeFileSync('out.txt', 'written by the host')")
        assert (worktree / "out.txt").read_text() == "written by the host"
        escape = run(rt, "require('fs').readFileSync('../../../../etc/passwd')")
        assert escape.kind is OutcomeKind.EXCEPTION
        absolute = run(rt, "require('fs').readFileSync('/etc/passwd')")
        assert absolute.kind is OutcomeKind.EXCEPTION
    finally:
        rt.close()


def test_database_module_runs_sql_and_closes_with_the_session(
    pool: HostPool, worktree: Path
) -> None:
    rt = pool.start_runtime(
        spec(worktree, modules=["database"], grants=[Grant("fs", "write")]), Lost()
    )
    try:
        rows = value(
            rt,
            "const db = require('database'); db.configure('sqlite3', 'data.db');"
            "db.exec('create table t (x)'); db.exec('insert into t values (?)', 42);"
            "db.query('select x from t')",
        )
        assert rows == [{"x": 42}]
        assert (worktree / "data.db").exists()
    finally:
        rt.close()


def test_exec_module_runs_allowed_commands_in_the_worktree(pool: HostPool, worktree: Path) -> None:
    grants = [Grant("exec", "run", True, {"allow": ["pwd", "/bin/echo"]})]
    rt = pool.start_runtime(spec(worktree, modules=["exec"], grants=grants), Lost())
    try:
        assert value(rt, "require('exec').run('pwd')").strip() == str(worktree)
        assert value(rt, "require('exec').run('/bin/echo', ['a;b'])").strip() == "a;b"
        denied = run(rt, "require('exec').run('ls')")
        assert denied.kind is OutcomeKind.EXCEPTION
    finally:
        rt.close()


def test_exec_children_see_granted_variables_resolved_by_the_daemon(
    pool: HostPool, worktree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The daemon resolves env:<VAR> from its own environment; a host's is scrubbed.
    monkeypatch.setenv("HOSTS_TEST_GRANTED", "granted-value")
    grants = [
        Grant("exec", "run", True, {"allow": ["env"]}),
        Grant("env", "HOSTS_TEST_GRANTED"),
    ]
    rt = pool.start_runtime(spec(worktree, modules=["exec"], grants=grants), Lost())
    try:
        assert value(rt, "process.env.HOSTS_TEST_GRANTED") == "granted-value"
        assert "HOSTS_TEST_GRANTED=granted-value" in value(rt, "require('exec').run('env')")
    finally:
        rt.close()


def test_exec_stops_at_the_run_deadline_and_on_cancel(pool: HostPool, worktree: Path) -> None:
    grants = [Grant("exec", "run", True, {"allow": ["sleep"]})]
    rt = pool.start_runtime(spec(worktree, modules=["exec"], grants=grants), Lost())
    try:
        started = time.monotonic()
        outcome = run(
            rt, "require('exec').run('sleep', ['5'])", RunLimits(wall_ms=500, cpu_ms=None)
        )
        assert time.monotonic() - started < 4
        assert outcome.kind in (OutcomeKind.EXCEPTION, OutcomeKind.WALL_TIMEOUT)
        threading.Timer(0.3, rt.cancel).start()
        started = time.monotonic()
        outcome = run(
            rt, "require('exec').run('sleep', ['5'])", RunLimits(wall_ms=20000, cpu_ms=None)
        )
        assert time.monotonic() - started < 4
        assert outcome.kind in (OutcomeKind.EXCEPTION, OutcomeKind.CANCELLED)
        assert value(rt, "1") == 1
    finally:
        rt.close()


def test_hosts_are_listed_with_their_sessions(pool: HostPool) -> None:
    before = sum(h.sessions for h in pool.hosts())
    rt = pool.start_runtime(spec(), Lost())
    try:
        hosts = pool.hosts()
        assert sum(h.sessions for h in hosts) == before + 1
        (host,) = [h for h in hosts if h.id == rt.host_id]
        assert host.kind == pool.kind
        assert host.alive
    finally:
        rt.close()
    assert sum(h.sessions for h in pool.hosts()) == before


def test_modules_and_typescript_load_from_the_worktree_inside_the_host(
    pool: HostPool, worktree: Path, tmp_path: Path
) -> None:
    (worktree / "lib").mkdir()
    (worktree / "lib" / "util.mjs").write_text("export const add = (a, b) => a + b;\n")
    (worktree / "main.ts").write_text(
        "import { add } from './lib/util.mjs';\nconst n: number = add(40, 2);\nconsole.log(n);\n"
    )
    (tmp_path / "outside.js").write_text("module.exports = 'outside';\n")
    os.symlink(tmp_path / "outside.js", worktree / "link.js")
    rt = pool.start_runtime(spec(worktree), Lost())
    try:
        sink = Sink()
        outcome = run(rt, module_entry("main.ts", "") or "", sink=sink)
        assert outcome.kind is OutcomeKind.OK, outcome.exception
        assert sink.texts == ["42"]
        assert value(rt, "require('./lib/util.mjs').add(1, 2)") == 3
        refused = run(rt, "require('./link.js')")
        assert refused.kind is OutcomeKind.EXCEPTION
        assert "outside the session worktree" in (refused.exception or {})["message"]
        assert value(rt, typescript_input("const k: number = 6; k * 7")) == 42
    finally:
        rt.close()


def test_completion_runs_in_the_host_and_is_refused_while_a_run_is_in_flight(
    pool: HostPool,
) -> None:
    rt = pool.start_runtime(spec(), Lost())
    try:
        run(rt, "const myVar = {inner: 1}; globalThis.calls = 0")
        done = rt.complete("myVar.in", 8)
        assert (list(done.matches), done.cursor_start, done.cursor_end) == (["inner"], 6, 8)
        assert "max" in rt.complete("Math.ma", 7).matches
        sink = Sink()
        finished = threading.Event()
        rt.start_run(
            "console.log('go'); while (true) {}",
            limits=RunLimits(wall_ms=20000, cpu_ms=None),
            sink=sink,
            on_outcome=lambda _outcome: finished.set(),
        )
        assert sink.got_line.wait(30)
        with pytest.raises(EngineBusy):
            rt.complete("Math.ma", 7)
        rt.cancel()
        assert finished.wait(30)
        assert "myVar" in rt.complete("my", 2).matches
        assert value(rt, "calls") == 0
    finally:
        rt.close()
