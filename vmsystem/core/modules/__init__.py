"""Native modules that templates may expose to ``require()``, and their host functions."""

from vmsystem.core.modules.catalog import (
    BUILTIN_NAMES,
    ModuleScope,
    ModuleSpec,
    build_session_modules,
    module_specs,
    normalize_module_name,
)

__all__ = [
    "BUILTIN_NAMES",
    "ModuleScope",
    "ModuleSpec",
    "build_session_modules",
    "module_specs",
    "normalize_module_name",
]
