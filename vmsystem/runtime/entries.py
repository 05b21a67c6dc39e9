"""How a run-file entry or a REPL input reaches the prelude's module loader.

A run-file of an ES module, a CommonJS module or a TypeScript file runs as a module (the
prelude's loader reads it, confined to the worktree, see :mod:`vmsystem.modules.loader`); a
``.js`` file without ES module syntax runs as a global script, as before modules existed (its
top-level declarations stay visible to later inputs). TypeScript REPL input has its types
stripped in the isolate before the REPL transform. Both are a one-line script calling the
prelude's hook, so that nothing new travels through the host seam.
"""

from __future__ import annotations

import json
import re

__all__ = ["LANGUAGES", "MODULE_EXTENSIONS", "library_binding", "module_entry", "typescript_input"]

#: REPL input languages (``language`` on a REPL request, ``settings.runtime.language``).
LANGUAGES = ("javascript", "typescript")
#: Files that always run as modules.
MODULE_EXTENSIONS = (".mjs", ".cjs", ".ts", ".mts", ".cts", ".tsx", ".jsx")
_HOOK = 'globalThis[Symbol.for("vm-system.modules")]'
#: A line starting with an import or export statement (or using import.meta): ES module syntax.
_ESM_SYNTAX = re.compile(
    r"(?:^|[\n;}])[ \t]*(?:import[ \t]*[\w{*\"'$]|import[ \t]*\.[ \t]*meta\b|export[ \t]*[\w{*$])"
)


def module_entry(path: str, source: str) -> str | None:
    """The script that runs worktree file ``path`` as a module, or None when it runs as a
    global script (a ``.js`` file without ES module syntax)."""
    lower = path.lower()
    if lower.endswith(MODULE_EXTENSIONS) or (
        lower.endswith(".js") and _ESM_SYNTAX.search(source) is not None
    ):
        return f"{_HOOK}.main({json.dumps(path)})"
    return None


def typescript_input(source: str) -> str:
    """The script that runs TypeScript REPL input ``source``."""
    return f"{_HOOK}.typescript({json.dumps(source)})"


def library_binding(name: str, global_name: str) -> str:
    """Code appended to a template library's source: ``import``/``require`` of ``name`` then
    gives the global the library defined (nothing when it names no global)."""
    if not global_name:
        return ""
    return f"\n;{_HOOK}.library({json.dumps(name)}, globalThis[{json.dumps(global_name)}]);"
