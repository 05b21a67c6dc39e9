"""``vm-system repl``: an interactive JavaScript prompt on a session, like ``node`` or ``deno``.

Each input runs as one REPL execution of the session (state persists between inputs, as
everywhere in vm-system). The execution is started in streaming mode and its events are
printed as they arrive: console output live, then the value (its ``inspect`` form when the
daemon sends one, else its preview) or the uncaught exception with its stack (a SyntaxError
after its line of the input and a ``^`` under its column, as node shows it).

- Enter sends the input when it is complete; an incomplete statement (see
  :mod:`vmsystem.cli.jsinput`) continues on a ``...`` line, and an empty line sends it as is.
- Ctrl-C while an execution runs cancels it (the session and the REPL stay); at the prompt it
  clears the line, and a second Ctrl-C on an empty line leaves, as in node. Ctrl-D on an empty
  line (or ``.exit``) leaves.
- Tab completes from the session's runtime (``POST /sessions/{id}/complete``: globals, REPL
  bindings, properties along the prototype chain), without running any of the user's code.
- ``.editor`` reads a multi-line input until Ctrl-D, ``.load FILE`` runs a local file as one
  input, ``.save FILE`` writes this REPL's inputs to a local file.
- A session the REPL created (``--new``) is closed when the REPL ends, including on SIGHUP (the
  terminal went away) and SIGTERM. The daemon closes it too once it has had no activity for its
  idle timeout (it is created ``interactive``: see :mod:`vmsystem.core.idle`).
- History is kept in ``repl_history`` under the user's data directory (platformdirs:
  ``$XDG_DATA_HOME/vm-system`` or ``~/.local/share/vm-system`` on Linux).
- When stdin is not a terminal, the inputs are read from it (statements split by the same
  rule) and run one after the other, without a prompt.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer

from vmsystem.client import (
    APIError,
    Client,
    ClientError,
    DaemonUnavailable,
    RouteNotFound,
    SessionNotReady,
)
from vmsystem.client.types import Event, Session

from .executions import Language
from .failures import CliError, kept_session_hint, report
from .jsinput import is_incomplete
from .output import error_text
from .refs import non_empty
from .state import client_of

if TYPE_CHECKING:
    from prompt_toolkit.completion import CompleteEvent, Completer
    from prompt_toolkit.document import Document

__all__ = ["HELP", "history_path", "repl", "split_statements"]

PROMPT = "> "
CONTINUATION = "... "
HELP = """\
.help       show this help
.exit       leave the REPL (Ctrl-D on an empty line, or Ctrl-C twice, does too)
.restart    restart the session from its template (a fresh global scope)
.editor     enter a multi-line input; Ctrl-D runs it, Ctrl-C cancels it
.load FILE  run a local file as one input
.save FILE  write this REPL's inputs to a local file

Enter sends a complete statement; an incomplete one continues on a `...` line and an empty
line sends it as it is. Tab completes names from the session. Ctrl-C cancels a running
execution, or clears the line at the prompt."""
EXIT_HINT = "(To exit, press Ctrl-C again or Ctrl-D or type .exit)"


def history_path() -> Path:
    """Where the REPL keeps its history (created on first use)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("vm-system", appauthor=False)) / "repl_history"


def split_statements(lines: Iterable[str]) -> Iterator[str]:
    """Group input lines into statements the way the prompt does (non-interactive input)."""
    pending: list[str] = []
    for line in lines:
        pending.append(line.rstrip("\n"))
        text = "\n".join(pending)
        if not text.strip():
            pending.clear()
            continue
        if line.strip() and is_incomplete(text):
            continue
        yield text
        pending.clear()
    if "\n".join(pending).strip():
        yield "\n".join(pending)


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _shown_value(payload: dict[str, Any]) -> str:
    """A result as node prints it: the daemon's ``inspect`` form, else the preview (strings
    quoted, so ``'42'`` and ``42`` differ)."""
    shown = payload.get("inspect")
    if isinstance(shown, str):
        return shown
    preview = str(payload.get("preview", ""))
    if payload.get("type") == "string":
        return "'" + preview.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return preview


def syntax_caret(error: dict[str, Any], code: str) -> str | None:
    """As Node's REPL shows a SyntaxError: the input's line it is on, then ``^`` under its
    column (from the runtime's ``line``/``column``); None for another error, or a location
    outside ``code``."""
    line, column = error.get("line"), error.get("column")
    if error.get("name") != "SyntaxError" or not isinstance(line, int):
        return None
    lines = code.split("\n")
    if not isinstance(column, int) or not 1 <= line <= len(lines):
        return None
    text = lines[line - 1].rstrip("\r")
    if not 1 <= column <= len(text) + 1:
        return None
    # Tabs stay tabs, so that the caret lines up however the terminal expands them.
    pad = "".join(c if c == "\t" else " " for c in text[: column - 1])
    return f"{text}\n{pad}^\n"


def _print_event(event: Event, code: str = "") -> None:
    payload: dict[str, Any] = event.get("payload") or {}
    kind = event["type"]
    if kind == "console":
        text = str(payload.get("text", ""))
        (_err if payload.get("level") in ("warn", "error") else _out)(text)
    elif kind == "display":
        _out(str((payload.get("data") or {}).get("text/plain", "")))
    elif kind == "value":
        _out(_shown_value(payload))
    elif kind == "exception":
        result = payload.get("result")
        if isinstance(result, dict):  # an unhandled rejection surfaced after the input's result
            _out(_shown_value(result))
        caret = syntax_caret(payload, code)
        if caret is not None:
            _err(caret)
        _err(f"Uncaught {error_text(payload)}")
    elif kind == "system":
        level = payload.get("level", "info")
        code, message = payload.get("code", ""), payload.get("message", "")
        _err(f"[{level}] {code}: {message}" if code else f"[{level}] {message}")


class _EmptyLineInterrupt(KeyboardInterrupt):
    """Ctrl-C at the prompt with nothing typed."""


def _session_completer(repl: Repl) -> Completer:
    """A prompt_toolkit completer asking the session (``POST /sessions/{id}/complete``)."""
    from prompt_toolkit.completion import Completer, Completion

    class SessionCompleter(Completer):
        def get_completions(
            self, document: Document, complete_event: CompleteEvent
        ) -> Iterator[Completion]:
            cursor = document.cursor_position
            try:
                found = repl.client.complete(repl.session_id, document.text, cursor)
            except ClientError:  # busy, not ready, gone: nothing to offer
                return
            for match in found["matches"]:
                yield Completion(match, start_position=found["cursor_start"] - cursor)

    return SessionCompleter()


class Repl:
    """The loop around one session: evaluate, print, handle dot-commands."""

    def __init__(self, client: Client, session_id: str, language: str | None = None) -> None:
        self.client = client
        self.session_id = session_id
        self.language = language  # None: the template's settings.runtime.language
        #: The inputs evaluated so far (what ``.save`` writes).
        self.inputs: list[str] = []
        #: Reads an ``.editor`` input (None: cancelled); set by the interactive loop.
        self.read_editor: Callable[[], str | None] | None = None

    def evaluate(self, code: str) -> None:
        """Run ``code`` and print its events live; Ctrl-C cancels it."""
        self.inputs.append(code)
        try:
            execution = self.client.run_repl(
                self.session_id, code, stream=True, language=self.language
            )
        except APIError as exc:
            self._api_error(exc)
            return
        except ClientError as exc:  # e.g. the daemon went away: say so, keep the prompt
            _err(str(exc) if isinstance(exc, DaemonUnavailable) else f"Error: {exc}")
            return
        except KeyboardInterrupt:  # before the answer: the daemon may have started it
            self._interrupted_start(code)
            return
        execution_id = execution["id"]
        try:
            for event in self.client.stream_execution_events(execution_id):
                _print_event(event, code)
        except KeyboardInterrupt:
            self._cancel(execution_id)
        except ClientError as exc:
            _err(f"Error: {exc}")

    def _interrupted_start(self, code: str) -> None:
        """Ctrl-C while the input was being sent: cancel it if the daemon started it (the
        session's newest execution, still running this input), and keep the prompt."""
        try:
            newest = self.client.list_executions(self.session_id, limit=1)
        except (ClientError, KeyboardInterrupt):
            newest = []
        if newest and newest[0]["status"] == "running" and newest[0]["input"] == code:
            self._cancel(newest[0]["id"])
        else:
            _err("Interrupted before the input started")

    def _cancel(self, execution_id: str) -> None:
        try:
            self.client.cancel_execution(execution_id)
        except KeyboardInterrupt:  # a second Ctrl-C while cancelling: just return
            pass
        except ClientError as exc:
            _err(f"Error: cancelling {execution_id} failed: {exc}")
            return
        _err(f"Cancelled execution: {execution_id}")

    def _api_error(self, exc: APIError) -> None:
        _err(str(exc))
        running = exc.details.get("execution_id")
        if exc.code == "SESSION_BUSY" and isinstance(running, str):
            _err(f"Running execution: {running}")
        if isinstance(exc, SessionNotReady):
            _err(self._not_ready_hint(exc))

    def _not_ready_hint(self, exc: SessionNotReady) -> str:
        """What to do about a session that is not ready; a closed one says why it closed (its
        idle timeout, for one left alone)."""
        if exc.details.get("status") != "closed":
            return "The session is not ready: .restart it, or .exit"
        try:
            reason = self.client.get_session(self.session_id).get("last_error")
        except ClientError:
            reason = None
        why = f" ({reason})" if reason else ""
        return f"The session is closed{why}: .exit, then start another (vm-system repl --new)"

    def command(self, line: str) -> bool:
        """Handle a dot-command; returns ``False`` when the REPL should end."""
        name, _, argument = line.strip().partition(" ")
        argument = argument.strip()
        if name == ".exit":
            return False
        if name == ".help":
            _out(HELP)
        elif name == ".restart":
            self.restart()
        elif name == ".editor":
            self.editor()
        elif name == ".load":
            self.load(argument)
        elif name == ".save":
            self.save(argument)
        else:
            _err(f"Unknown REPL command {name}: see .help")
        return True

    def editor(self) -> None:
        """``.editor``: a multi-line input ended by Ctrl-D (Ctrl-C cancels it)."""
        if self.read_editor is None:
            _err(".editor needs a terminal")
            return
        _out("// Entering editor mode (Ctrl-D to finish, Ctrl-C to cancel)")
        code = self.read_editor()
        if code is not None and code.strip():
            self.evaluate(code)

    def load(self, path: str) -> None:
        """``.load FILE``: run a local file's text as one input."""
        if not path:
            _err("usage: .load FILE")
            return
        try:
            code = Path(path).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            _err(f"Error: cannot read {path}: {exc}")
            return
        if code.strip():
            self.evaluate(code)

    def save(self, path: str) -> None:
        """``.save FILE``: write the inputs evaluated so far, one after the other."""
        if not path:
            _err("usage: .save FILE")
            return
        text = "".join(code if code.endswith("\n") else code + "\n" for code in self.inputs)
        try:
            Path(path).expanduser().write_text(text, encoding="utf-8")
        except OSError as exc:
            _err(f"Error: cannot write {path}: {exc}")
            return
        _out(f"Session saved to: {path}")

    def restart(self) -> None:
        """``POST /sessions/{id}/restart``, when the daemon has it."""
        try:
            session = self.client.restart_session(self.session_id)
        except RouteNotFound:
            _err("restart is not available: this daemon has no session restart route")
            return
        except APIError as exc:
            self._api_error(exc)
            return
        self.session_id = session["id"]
        _out(f"Session restarted: {session['id']} ({session['status']})")

    def handle(self, text: str) -> bool:
        """One input: a dot-command or code. Returns ``False`` to end the REPL."""
        if not text.strip():
            return True
        if text.lstrip().startswith(".") and "\n" not in text.strip():
            return self.command(text)
        self.evaluate(text)
        return True

    # ------------------------------------------------------------------ loops
    def run_interactive(self, banner: str) -> None:
        """The prompt_toolkit loop."""
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory
        from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

        bindings = KeyBindings()

        @bindings.add("c-c")
        def _interrupt(event: KeyPressEvent) -> None:
            empty = not event.current_buffer.text
            event.app.exit(exception=_EmptyLineInterrupt() if empty else KeyboardInterrupt())

        @bindings.add("enter")
        def _enter(event: KeyPressEvent) -> None:
            buffer = event.current_buffer
            text = buffer.document.text
            complete = not text.strip() or not is_incomplete(text)
            # An empty line sends a multi-line input as it is (the heuristic can be wrong).
            forced = "\n" in text and not buffer.document.current_line.strip()
            if complete or forced:
                buffer.validate_and_handle()
            else:
                buffer.insert_text("\n")

        path = history_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        # Inputs may hold secrets: the history is the user's alone, as node's is.
        path.touch(mode=0o600, exist_ok=True)
        prompt: PromptSession[str] = PromptSession(
            history=FileHistory(str(path)),
            multiline=True,
            key_bindings=bindings,
            prompt_continuation=lambda width, line_number, wrap_count: CONTINUATION,
            completer=_session_completer(self),
            complete_while_typing=False,
        )
        self.read_editor = _editor_reader()
        _out(banner)
        exit_armed = False
        while True:
            try:
                text = prompt.prompt(PROMPT)
            except _EmptyLineInterrupt:  # twice on an empty line leaves, as in node
                if exit_armed:
                    return
                exit_armed = True
                _out(EXIT_HINT)
                continue
            except KeyboardInterrupt:  # at the prompt: clears the line, as node does
                exit_armed = False
                continue
            except EOFError:
                return
            exit_armed = False
            if not self.handle(text):
                return

    def run_piped(self, lines: Iterable[str]) -> None:
        """Statements read from a non-terminal stdin, run in order."""
        for text in split_statements(lines):
            if not self.handle(text):
                return


def _editor_reader() -> Callable[[], str | None]:
    """A reader of ``.editor`` inputs: Enter is a newline, Ctrl-D ends, Ctrl-C cancels."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

    bindings = KeyBindings()

    @bindings.add("c-d")
    def _finish(event: KeyPressEvent) -> None:
        event.current_buffer.validate_and_handle()

    session: PromptSession[str] = PromptSession(multiline=True, key_bindings=bindings)

    def read() -> str | None:
        try:
            return session.prompt("")
        except (KeyboardInterrupt, EOFError):
            return None

    return read


def _close_on_signals() -> None:
    """SIGHUP (the terminal went away) and SIGTERM end the REPL like ``.exit``, so that the
    ``finally`` closing a session it created runs."""

    def leave(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    for signum in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(signum, leave)


def _open_session(
    client: Client, session_id: str | None, new: bool, template: str | None, worktree: str
) -> tuple[Session, bool]:
    if new:
        if session_id is not None:
            raise CliError("give either SESSION_ID or --new, not both")
        if not template:
            raise CliError("--new needs --template NAME_OR_ID")
        worktree_path = os.path.abspath(os.path.expanduser(worktree))
        try:
            return client.create_session(template, worktree_path, interactive=True), True
        except APIError as exc:
            hint = kept_session_hint(exc)
            if hint is None:
                raise
            raise typer.Exit(report(exc, [hint])) from None
    if template is not None:
        raise CliError("--template goes with --new")
    if session_id is None:
        raise CliError("missing session: give SESSION_ID, or --new --template NAME")
    return client.get_session(session_id), False


def repl(
    ctx: typer.Context,
    session_id: Annotated[
        str | None,
        typer.Argument(
            help="Session to evaluate in (or use --new).",
            metavar="SESSION_ID",
            show_default=False,
            callback=non_empty,
        ),
    ] = None,
    new: Annotated[
        bool,
        typer.Option(
            "--new",
            help="Start a new session of --template for this REPL (closed when it ends).",
        ),
    ] = False,
    template: Annotated[
        str | None,
        typer.Option("--template", help="Template name or ID for --new.", show_default=False),
    ] = None,
    worktree_path: Annotated[
        str,
        typer.Option("--worktree-path", help="Worktree directory of the --new session."),
    ] = ".",
    language: Annotated[
        Language | None,
        typer.Option(
            "--language",
            help="Language of the input (default: the template's settings.runtime.language).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Interactive JavaScript prompt on a session, like `node`: live console output,
    inspect-style results, multi-line input, history.

    Enter sends a complete statement. It is incomplete, and continues on a `...` line, while a
    bracket, a template literal or a block comment is open or the line ends with an operator
    (decided locally by this simple rule; an empty line sends the input as it is).
    Tab completes globals, REPL bindings and properties from the session (no code of yours
    runs to find them). A syntax error shows as in node: the input's line, then `^` under
    the column. Ctrl-C cancels the running execution (or clears the line; twice on an
    empty line leaves); Ctrl-D or `.exit` leaves; `.help` lists the commands, `.restart`
    restarts the session, `.editor` takes a multi-line input until Ctrl-D, `.load FILE` runs a
    local file, `.save FILE` writes this REPL's inputs to one. A `--new` session is closed
    when the REPL ends, also on SIGHUP and SIGTERM, and by the daemon after its idle timeout
    (the template's settings.session.idle_timeout_s, else the daemon's
    --interactive-idle-timeout, 1 hour by default). History is kept in the user's data
    directory (`~/.local/share/vm-system/repl_history` on Linux). With stdin not a terminal,
    statements are read from it and run in order.
    """
    client = client_of(ctx)
    session, created = _open_session(client, session_id, new, template, worktree_path)
    if created:
        _out(f"Created session: {session['id']}")
    elif session["status"] != "ready":
        raise CliError(f"session {session['id']} is {session['status']}, not ready")
    loop = Repl(client, session["id"], language.value if language is not None else None)
    if created:
        _close_on_signals()
    snapshot = session.get("template_snapshot")
    name = snapshot.get("name", "") if snapshot else ""
    banner = (
        f"vm-system REPL on session {session['id']}"
        + (f" (template {name})" if name else "")
        + "\nType .help for commands, Ctrl-D to leave."
    )
    try:
        if sys.stdin.isatty() and sys.stdout.isatty():
            loop.run_interactive(banner)
        else:
            loop.run_piped(sys.stdin)
    finally:
        if created:
            _close_quietly(client.close_session, loop.session_id)


def _close_quietly(close: Callable[[str], Any], session_id: str) -> None:
    # A second signal while closing must not stop the close half-way.
    with contextlib.suppress(ValueError):  # not the main thread: no signals to mask
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP, signal.SIGTERM})
    # After a SIGHUP the terminal is gone: the messages may not be writable.
    try:
        close(session_id)
    except ClientError as exc:
        with contextlib.suppress(OSError):
            _err(f"Error: closing session {session_id} failed: {exc}")
        return
    with contextlib.suppress(OSError):
        _out(f"Closed session: {session_id}")
