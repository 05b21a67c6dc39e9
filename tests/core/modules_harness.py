"""A real V8 context wired with native modules, for the module and capability tests."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vmsystem.core.capabilities import hidden_globals, session_environment, validate_capability
from vmsystem.core.modules import ModuleScope, build_session_modules
from vmsystem.models import Capability
from vmsystem.runtime import ConsoleLine, ContextOptions, Outcome, OutcomeKind, RunLimits
from vmsystem.runtime.v8 import V8Context, V8Engine

LIMITS = RunLimits(wall_ms=2000, cpu_ms=None)


def cap(
    kind: str, name: str, enabled: bool = True, config: dict[str, Any] | None = None
) -> Capability:
    """A capability as the TemplateService stores it (validated and normalised)."""
    kind_n, name_n, config_n = validate_capability(kind, name, enabled, config or {})
    return Capability(
        id=f"cap-{kind_n}-{name_n}",
        template_id="tpl",
        kind=kind_n,
        name=name_n,
        enabled=enabled,
        config=config_n,
    )


@dataclass
class Session:
    """A context plus the scope its host functions use."""

    ctx: V8Context
    scope: ModuleScope
    functions: Mapping[str, Any]
    lines: list[ConsoleLine] = field(default_factory=list)

    def run(self, code: str, limits: RunLimits = LIMITS) -> Outcome:
        return self.ctx.run(code, limits=limits, sink=self.lines.extend)

    def value(self, code: str) -> Any:
        """The JSON value (or the preview) of ``code``, which must succeed."""
        outcome = self.run(code)
        assert outcome.kind is OutcomeKind.OK, (outcome.kind, outcome.exception, outcome.message)
        assert outcome.value is not None
        return outcome.value.get("json", outcome.value["preview"])

    def error(self, code: str) -> dict[str, Any]:
        """The exception ``code`` throws (name, message)."""
        outcome = self.run(code)
        assert outcome.kind is OutcomeKind.EXCEPTION, (outcome.kind, outcome.value)
        assert outcome.exception is not None
        return outcome.exception

    def caught(self, code: str) -> dict[str, str]:
        """Run ``code`` inside try/catch in JS: the error must be a catchable JS Error.
        (The wrapper uses no global, so it works with any global hidden.)"""
        wrapped = (
            "(() => { try { " + code + "; return {threw: false}; } catch (e) { "
            "return {threw: true, isError: ({}).toString.call(e) === '[object Error]', "
            "name: e.name, message: '' + e.message}; } })()"
        )
        result = self.value(wrapped)
        assert result["threw"], f"expected {code!r} to throw"
        assert result["isError"], result
        return {"name": result["name"], "message": result["message"]}

    def assert_usable(self) -> None:
        assert self.ctx.alive
        assert self.value("1+1") == 2


@contextmanager
def open_session(
    worktree: Path,
    modules: Sequence[str] = (),
    capabilities: Sequence[Capability] = (),
    environ: Mapping[str, str] | None = None,
    mem_mb: int | None = None,
) -> Iterator[Session]:
    """A session runtime the way SessionService builds one (modules, env, hidden globals)."""
    scope = ModuleScope(
        "session-test", Path(os.path.realpath(worktree)), list(capabilities), mem_mb=mem_mb
    )
    factories, functions = build_session_modules(list(modules), scope)
    options = ContextOptions(
        modules=factories,
        host_functions=functions,
        env=session_environment(capabilities, os.environ if environ is None else environ),
        hidden_globals=hidden_globals(capabilities),
    )
    ctx = V8Engine().create_context(options)
    try:
        yield Session(ctx, scope, functions)
    finally:
        for cleanup in scope.cleanups:
            cleanup()
        ctx.close()


def js(text: str) -> str:
    """A JS string literal."""
    import json

    return json.dumps(text)
