"""The Jupyter kernel: one kernel is one vm-system session, driven through the SDK.

Started by a Jupyter front end from the kernelspec that ``vm-system kernel install`` writes
(``python -m vmsystem.cli.jupyter -f CONNECTION_FILE``), configured by the spec's environment:

- ``VMSYSTEM_SERVER_URL`` / ``VMSYSTEM_AUTH_TOKEN``: the daemon (as for every SDK client);
- ``VMSYSTEM_KERNEL_TEMPLATE``: the template (ID or name) sessions start from; default
  ``jupyter``, created with default settings when no template has that name;
- ``VMSYSTEM_KERNEL_LANGUAGE``: ``javascript`` (default) or ``typescript``;
- ``VMSYSTEM_KERNEL_WORKTREE``: the session's worktree: an absolute path on the daemon's
  machine, or ``@notebook`` for the kernel's working directory (the notebook's folder); by
  default a managed worktree the daemon creates (and removes when the session is purged).

What maps to what (docs/jupyter.md): ``execute_request`` is a REPL execution whose console
lines become ``stream`` outputs (stdout for log/info/debug, stderr for warn/error),
``display()`` calls ``display_data``, the result ``execute_result`` (``text/plain`` is its
``inspect`` text, plus the value's own MIME bundle) and a thrown error or a limit hit ``error``;
an interrupt (``interrupt_request`` or SIGINT) cancels the running execution; a kernel
restart restarts the session under the same id; shutting the kernel down closes the session.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from ipykernel.kernelapp import IPKernelApp
from ipykernel.kernelbase import Kernel

from vmsystem import __version__
from vmsystem.cli.jsinput import is_incomplete
from vmsystem.client import APIError, AsyncClient, Client, ClientError, TemplateNotFound
from vmsystem.client.types import Event, Execution

__all__ = ["VmSystemKernel", "main"]

ENV_TEMPLATE = "VMSYSTEM_KERNEL_TEMPLATE"
ENV_LANGUAGE = "VMSYSTEM_KERNEL_LANGUAGE"
ENV_WORKTREE = "VMSYSTEM_KERNEL_WORKTREE"
DEFAULT_TEMPLATE = "jupyter"
#: VMSYSTEM_KERNEL_WORKTREE's value for "the notebook's folder" (the kernel's working directory).
NOTEBOOK_WORKTREE = "@notebook"
LANGUAGES = {
    "javascript": {
        "name": "javascript",
        "mimetype": "text/javascript",
        "file_extension": ".js",
        "codemirror_mode": "javascript",
        "pygments_lexer": "javascript",
    },
    "typescript": {
        "name": "typescript",
        "mimetype": "text/typescript",
        "file_extension": ".ts",
        "codemirror_mode": "typescript",
        "pygments_lexer": "typescript",
    },
}
_STDERR_LEVELS = frozenset({"warn", "error"})
#: Beside the connection file during a restart: the session the next kernel process takes over.
_HANDOVER_SUFFIX = ".vmsystem-session"


def _language() -> str:
    name = os.environ.get(ENV_LANGUAGE, "javascript").strip().lower() or "javascript"
    return name if name in LANGUAGES else "javascript"


def _worktree() -> str | None:
    """The worktree of the kernel's session (None: a managed one)."""
    worktree = os.environ.get(ENV_WORKTREE, "").strip()
    if not worktree:
        return None
    return str(Path(os.getcwd() if worktree == NOTEBOOK_WORKTREE else worktree).resolve())


def _traceback(payload: dict[str, Any]) -> list[str]:
    stack = payload.get("stack")
    if isinstance(stack, str) and stack.strip():
        return stack.splitlines()
    return [f"{payload.get('name', 'Error')}: {payload.get('message', '')}"]


class VmSystemKernel(Kernel):
    """A Jupyter kernel whose code runs in a vm-system session (see the module doc)."""

    implementation = "vm-system"
    implementation_version = __version__
    banner = "vm-system: JavaScript in a persistent, journaled V8 session"
    help_links: list[dict[str, str]] = []

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]
        self._language = _language()
        self.language_info = dict(LANGUAGES[self._language])
        self._client = AsyncClient()
        # Interrupts arrive as SIGINT on the main thread while an execution is awaited: the
        # cancel goes out on its own client from a short-lived thread.
        self._canceller = Client()
        self._session_id: str | None = None
        self._running: str | None = None

    # ------------------------------------------------------------------ session
    def pre_handler_hook(self) -> None:
        # ipykernel makes SIGINT raise KeyboardInterrupt while a request is handled; here it
        # cancels the running execution instead (the daemon ends it `cancelled`).
        self.saved_sigint_handler = signal.signal(signal.SIGINT, self._on_sigint)

    def _handover_file(self) -> Path | None:
        app = IPKernelApp.instance() if IPKernelApp.initialized() else None
        connection_file = getattr(app, "connection_file", "") if app is not None else ""
        return Path(connection_file + _HANDOVER_SUFFIX) if connection_file else None

    async def _session(self) -> str:
        if self._session_id is not None:
            return self._session_id
        handover = self._handover_file()
        if handover is not None and handover.exists():
            session_id = handover.read_text().strip()
            handover.unlink(missing_ok=True)
            try:
                session = await self._client.get_session(session_id)
                if session["status"] == "ready":
                    self._session_id = session_id
                    return session_id
            except APIError:
                pass
        template = os.environ.get(ENV_TEMPLATE, "").strip() or DEFAULT_TEMPLATE
        worktree = _worktree()
        try:
            session = await self._client.create_session(template, worktree, interactive=True)
        except TemplateNotFound:
            if template != DEFAULT_TEMPLATE:
                raise
            try:
                await self._client.create_template(DEFAULT_TEMPLATE)
            except APIError as exc:  # created meanwhile by another kernel
                if exc.code != "CONFLICT":
                    raise
            session = await self._client.create_session(template, worktree, interactive=True)
        self._session_id = session["id"]
        return session["id"]

    # ------------------------------------------------------------------ execute
    async def do_execute(
        self,
        code: str,
        silent: bool,
        store_history: bool = True,
        user_expressions: dict[str, Any] | None = None,
        allow_stdin: bool = False,
        *,
        cell_meta: dict[str, Any] | None = None,
        cell_id: str | None = None,
    ) -> dict[str, Any]:
        if not code.strip():
            return self._ok()
        try:
            session_id = await self._session()
            execution = await self._client.run_repl(
                session_id, code, stream=True, language=self._language
            )
        except ClientError as exc:
            return self._fail(getattr(exc, "code", None) or type(exc).__name__, str(exc), silent)
        self._running = execution["id"]
        try:
            async for event in self._client.stream_execution_events(execution["id"]):
                if not silent:
                    self._publish(event)
            final: Execution = await self._client.get_execution(execution["id"])
        except ClientError as exc:
            return self._fail(type(exc).__name__, str(exc), silent)
        finally:
            self._running = None
        if final["status"] == "ok":
            return self._ok()
        error = final.get("error") or {}
        return {
            "status": "error",
            "execution_count": self.execution_count,
            "ename": str(error.get("name") or error.get("code") or final["status"]),
            "evalue": str(error.get("message") or ""),
            "traceback": _traceback(error),
        }

    def _send(self, msg_type: str, content: dict[str, Any]) -> None:
        self.send_response(self.iopub_socket, msg_type, content)  # type: ignore[no-untyped-call]

    def _ok(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "execution_count": self.execution_count,
            "payload": [],
            "user_expressions": {},
        }

    def _fail(self, ename: str, evalue: str, silent: bool) -> dict[str, Any]:
        content = {"ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}
        if not silent:
            self._send("error", content)
        return {"status": "error", "execution_count": self.execution_count, **content}

    def _publish(self, event: Event) -> None:
        kind, payload = event["type"], event["payload"]
        if kind == "console":
            name = "stderr" if payload.get("level") in _STDERR_LEVELS else "stdout"
            text = f"{payload.get('text', '')}\n"
            self._send("stream", {"name": name, "text": text})
        elif kind == "display":
            content = {"data": payload.get("data", {}), "metadata": payload.get("metadata", {})}
            self._send("display_data", content)
        elif kind == "value":
            if payload.get("type") == "undefined":
                return  # as Deno's and IJavascript's kernels: no Out[] for undefined
            data: dict[str, Any] = dict(payload.get("display") or {})
            data["text/plain"] = payload.get("inspect") or payload.get("preview", "")
            content = {"execution_count": self.execution_count, "data": data, "metadata": {}}
            self._send("execute_result", content)
        elif kind == "exception":
            result = payload.get("result")
            if isinstance(result, dict):  # an unhandled rejection surfaced after the result
                self._publish({**event, "type": "value", "payload": result})
            content = {
                "ename": str(payload.get("name", "Error")),
                "evalue": str(payload.get("message", "")),
                "traceback": _traceback(payload),
            }
            self._send("error", content)
        elif kind == "system" and payload.get("level") == "error":
            code, message = str(payload.get("code", "")), str(payload.get("message", ""))
            content = {"ename": code, "evalue": message, "traceback": [f"{code}: {message}"]}
            self._send("error", content)

    # ------------------------------------------------------------------ interrupt
    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        running = self._running
        if running is not None:
            threading.Thread(target=self._cancel, args=(running,), daemon=True).start()

    def _cancel(self, execution_id: str) -> None:
        try:
            self._canceller.cancel_execution(execution_id)
        except ClientError as exc:
            self.log.warning("cannot cancel %s: %s", execution_id, exc)

    # ------------------------------------------------------------------ other requests
    async def do_is_complete(self, code: str) -> dict[str, Any]:
        if is_incomplete(code):
            return {"status": "incomplete", "indent": "  "}
        return {"status": "complete"}

    async def do_complete(self, code: str, cursor_pos: int) -> dict[str, Any]:
        reply: dict[str, Any] = {
            "status": "ok",
            "matches": [],
            "cursor_start": cursor_pos,
            "cursor_end": cursor_pos,
            "metadata": {},
        }
        try:
            found = await self._client.complete(await self._session(), code, cursor_pos)
        except ClientError:
            return reply  # busy, or the daemon is gone: nothing to offer
        reply.update(
            matches=found["matches"],
            cursor_start=found["cursor_start"],
            cursor_end=found["cursor_end"],
        )
        return reply

    async def do_inspect(
        self, code: str, cursor_pos: int, detail_level: int = 0, omit_sections: Any = ()
    ) -> dict[str, Any]:
        # Showing a value would mean evaluating it (a getter, a Proxy trap): nothing runs.
        return {"status": "ok", "found": False, "data": {}, "metadata": {}}

    async def do_shutdown(self, restart: bool) -> dict[str, Any]:
        session_id = self._session_id
        if session_id is not None:
            try:
                if restart:
                    await self._client.restart_session(session_id)
                    handover = self._handover_file()
                    if handover is not None:
                        handover.write_text(session_id)
                else:
                    await self._client.close_session(session_id)
            except ClientError as exc:
                self.log.warning("session %s: %s", session_id, exc)
        return {"status": "ok", "restart": restart}


def main() -> None:
    """The kernel process's entry point (``python -m vmsystem.cli.jupyter -f FILE``)."""
    IPKernelApp.launch_instance(kernel_class=VmSystemKernel)


if __name__ == "__main__":
    main()
