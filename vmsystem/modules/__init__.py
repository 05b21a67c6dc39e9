"""Native modules that templates may expose to ``require()``, and their host functions.

This package sits below the core: it uses only :mod:`vmsystem.runtime` and the standard
library, so a session host process can build a session's modules next to its isolate.
"""

from vmsystem.modules.catalog import (
    BUILTIN_NAMES,
    ModuleScope,
    ModuleSpec,
    build_session_modules,
    module_name_problem,
    module_specs,
)
from vmsystem.modules.grants import (
    CapabilityLike,
    ExecPolicy,
    Grant,
    exec_policy,
    grants_of,
    hidden_globals,
    session_environment,
    session_modules,
)

__all__ = [
    "BUILTIN_NAMES",
    "CapabilityLike",
    "ExecPolicy",
    "Grant",
    "ModuleScope",
    "ModuleSpec",
    "build_session_modules",
    "exec_policy",
    "grants_of",
    "hidden_globals",
    "module_name_problem",
    "module_specs",
    "session_environment",
    "session_modules",
]
