"""The capability catalog: every ``(kind, name)`` a template may grant, and what it does.

Capabilities are deny by default and enforced: nothing here is metadata only. Validation (which
raises the core's errors) lives here; what a session derives from its grants lives below the
core in ``vmsystem/modules/grants.py`` (re-exported here), so a host process can use it.

=========  ====================  ==========================================================
kind       name                  effect
=========  ====================  ==========================================================
fs         write                 ``fs.writeFileSync`` and ``fs.mkdirSync`` may write inside
                                 the worktree (reads need only the ``fs`` module)
exec       run                   ``exec.run`` may start the commands in ``config.allow``
                                 (inside the bubblewrap sandbox, see ``modules/sandbox.py``)
exec       network               those commands share the host's network (they have none
                                 without it)
env        ``<VAR>``             ``process.env.<VAR>`` shows the daemon's variable (or
                                 ``config.value``); nothing else of the daemon's environment
                                 is ever visible
global     ``<Name>``            ``enabled=false`` removes a standard global; ``enabled=true``
                                 exposes one hidden by default (``SharedArrayBuffer``,
                                 ``Atomics``)
module     fs, exec, database    the same as configuring the native module (``enabled=false``
                                 withdraws it even if the module list names it)
=========  ====================  ==========================================================

``docs/capabilities.md`` documents the same table for users (a test keeps them in step), and
``GET /api/v1/metadata/capabilities`` serves :func:`capability_catalog`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from vmsystem.core.errors import ValidationError
from vmsystem.modules.grants import (
    DEFAULT_HIDDEN_GLOBALS,
    ENV_RESERVED_PREFIX,
    EXEC_MAX_TIMEOUT_MS,
    HIDEABLE_GLOBALS,
    CapabilityLike,
    ExecPolicy,
    exec_policy,
    hidden_globals,
    session_environment,
    session_modules,
)

__all__ = [
    "DEFAULT_HIDDEN_GLOBALS",
    "EXEC_MAX_TIMEOUT_MS",
    "HIDEABLE_GLOBALS",
    "KINDS",
    "CapabilityLike",
    "CapabilitySpec",
    "ExecPolicy",
    "capability_catalog",
    "exec_policy",
    "hidden_globals",
    "session_environment",
    "session_modules",
    "validate_capability",
]


KINDS = ("fs", "exec", "env", "global", "module")

_GLOBALS_BY_LOWER = {g.lower(): g for g in HIDEABLE_GLOBALS}

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_ENV_RESERVED_PREFIX = ENV_RESERVED_PREFIX
_COMMAND_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$")


@dataclass(frozen=True)
class CapabilitySpec:
    """One catalog entry (``name`` may be a placeholder such as ``<VAR>``)."""

    kind: str
    name: str
    description: str
    enabled_effect: str
    disabled_effect: str
    config_schema: dict[str, Any]
    example: dict[str, Any]
    names: tuple[str, ...] = ()
    default: str = "denied"
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form served by ``GET /api/v1/metadata/capabilities``."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "name": self.name,
            "description": self.description,
            "default": self.default,
            "enabled_effect": self.enabled_effect,
            "disabled_effect": self.disabled_effect,
            "config_schema": self.config_schema,
            "example": self.example,
        }
        if self.names:
            out["names"] = list(self.names)
        out.update(self.extra)
        return out


_EMPTY_CONFIG: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}

_CATALOG: tuple[CapabilitySpec, ...] = (
    CapabilitySpec(
        kind="fs",
        name="write",
        description="Lets the fs module write inside the session worktree.",
        enabled_effect=(
            "fs.writeFileSync and fs.mkdirSync work (paths stay confined to the worktree)"
        ),
        disabled_effect=(
            "fs.writeFileSync and fs.mkdirSync throw 'fs.writeFileSync needs the fs:write "
            "capability'; reads still work when the fs module is configured"
        ),
        config_schema=_EMPTY_CONFIG,
        example={"kind": "fs", "name": "write", "enabled": True, "config": {}},
    ),
    CapabilitySpec(
        kind="exec",
        name="run",
        description=(
            "Lets the exec module start the listed commands (no shell, cwd = worktree, "
            "minimal environment, stdin closed, bounded time and output) in a bubblewrap "
            "sandbox: read-only system, the worktree the only writable path (with fs:write), "
            "own PID namespace, no network without exec:network."
        ),
        enabled_effect=(
            "exec.run(cmd, args) runs cmd when it is exactly one of config.allow; bare names "
            "are looked up in PATH=/usr/bin:/bin"
        ),
        disabled_effect="exec.run throws for every command",
        config_schema={
            "type": "object",
            "properties": {
                "allow": {
                    "type": "array",
                    "items": {"type": "string"},
                    "minItems": 1,
                    "description": "absolute paths or bare command names, matched exactly",
                },
                "timeout_ms": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": EXEC_MAX_TIMEOUT_MS,
                    "default": EXEC_MAX_TIMEOUT_MS,
                },
            },
            "required": ["allow"],
            "additionalProperties": False,
        },
        example={
            "kind": "exec",
            "name": "run",
            "enabled": True,
            "config": {"allow": ["/bin/echo", "ls"], "timeout_ms": 2000},
        },
    ),
    CapabilitySpec(
        kind="exec",
        name="network",
        description=(
            "Gives exec.run commands the host's network (and its DNS and CA certificate "
            "files); without it they run in an empty network namespace."
        ),
        enabled_effect="exec.run commands can open network connections",
        disabled_effect=(
            "exec.run commands have only a loopback interface of their own (the default)"
        ),
        config_schema=_EMPTY_CONFIG,
        example={"kind": "exec", "name": "network", "enabled": True, "config": {}},
    ),
    CapabilitySpec(
        kind="env",
        name="<VAR>",
        description=(
            "Shows one environment variable in process.env. Sessions see none of the "
            "daemon's environment otherwise; VMSYSTEM_* variables can never be shown."
        ),
        enabled_effect=(
            "process.env.VAR is config.value when given, else the daemon's VAR (absent when "
            "the daemon has no such variable); exec.run commands see it too"
        ),
        disabled_effect="process.env.VAR is absent (the default)",
        config_schema={
            "type": "object",
            "properties": {"value": {"type": "string", "description": "a fixed value"}},
            "additionalProperties": False,
        },
        example={"kind": "env", "name": "TZ", "enabled": True, "config": {}},
    ),
    CapabilitySpec(
        kind="global",
        name="<Name>",
        description=(
            "Hides a standard global (for example Date or Math, for deterministic code). "
            "Hiding removes the global binding only; it is not a security boundary."
        ),
        enabled_effect="the global is present (the default for every name but "
        "SharedArrayBuffer and Atomics)",
        disabled_effect="the global is removed before any library, startup file or user code",
        config_schema=_EMPTY_CONFIG,
        example={"kind": "global", "name": "Date", "enabled": False, "config": {}},
        names=HIDEABLE_GLOBALS,
        default="present",
    ),
    CapabilitySpec(
        kind="global",
        name="SharedArrayBuffer",
        description="Shared memory; hidden by default (a high-resolution timer source).",
        enabled_effect="SharedArrayBuffer is present",
        disabled_effect="SharedArrayBuffer is absent (the default)",
        config_schema=_EMPTY_CONFIG,
        example={"kind": "global", "name": "SharedArrayBuffer", "enabled": True, "config": {}},
        default="hidden",
    ),
    CapabilitySpec(
        kind="global",
        name="Atomics",
        description="Atomic operations on shared memory; hidden by default (Atomics.wait "
        "would block the runtime's thread).",
        enabled_effect="Atomics is present",
        disabled_effect="Atomics is absent (the default)",
        config_schema=_EMPTY_CONFIG,
        example={"kind": "global", "name": "Atomics", "enabled": True, "config": {}},
        default="hidden",
    ),
    *(
        CapabilitySpec(
            kind="module",
            name=module,
            description=(
                f"Compatibility with the original's 'module' kind: the same as adding the "
                f"native module {module!r} to the template."
            ),
            enabled_effect=f"require({module!r}) works",
            disabled_effect=(
                f"require({module!r}) throws 'Invalid module', even if the template's module "
                f"list names it"
            ),
            config_schema=_EMPTY_CONFIG,
            example={"kind": "module", "name": module, "enabled": True, "config": {}},
        )
        for module in ("fs", "exec", "database")
    ),
)


def capability_catalog() -> list[dict[str, Any]]:
    """Every capability kind and name with its effect, config schema and an example."""
    return [spec.to_dict() for spec in _CATALOG]


# ---------------------------------------------------------------------- validation
def validate_capability(
    kind: str | None, name: str | None, enabled: bool, config: Mapping[str, Any] | None
) -> tuple[str, str, dict[str, Any]]:
    """Normalise ``(kind, name, config)`` of a capability being granted.

    Raises VALIDATION_ERROR (400) for an unknown kind or name or a bad config, and
    MODULE_NOT_ALLOWED (422) for ``module:<name>`` naming a JS built-in or an unknown module.
    """
    kind_n = (kind or "").strip().lower()
    raw_name = (name or "").strip()
    if not kind_n:
        raise ValidationError("Capability kind is required")
    if not raw_name:
        raise ValidationError("Capability name is required", kind=kind_n)
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise ValidationError("Capability config must be a JSON object", kind=kind_n)
    cfg = dict(config)
    if kind_n == "fs":
        return kind_n, _fixed_name(kind_n, raw_name, "write"), _no_config(kind_n, cfg)
    if kind_n == "exec":
        if raw_name.lower() == "network":
            return kind_n, "network", _no_config(kind_n, cfg)
        name_n = _fixed_name(kind_n, raw_name, "run", "network")
        return kind_n, name_n, _exec_config(cfg, enabled)
    if kind_n == "env":
        return kind_n, _env_name(raw_name), _env_config(cfg)
    if kind_n == "global":
        canonical = _GLOBALS_BY_LOWER.get(raw_name.lower())
        if canonical is None:
            raise ValidationError(
                f"Unknown global {raw_name!r} for capability kind 'global' "
                f"(see GET /api/v1/metadata/capabilities for the names)",
                kind=kind_n,
                name=raw_name,
            )
        return kind_n, canonical, _no_config(kind_n, cfg)
    if kind_n == "module":
        from vmsystem.core.modules import normalize_module_name

        return kind_n, normalize_module_name(raw_name), _no_config(kind_n, cfg)
    raise ValidationError(
        f"Unknown capability kind {kind_n!r} (known: {', '.join(KINDS)})", kind=kind_n
    )


def _fixed_name(kind: str, name: str, expected: str, *others: str) -> str:
    if name.lower() != expected:
        names = " or ".join(repr(n) for n in (expected, *others))
        only = "only the name" if not others else "the names"
        raise ValidationError(
            f"Unknown capability {kind}:{name} (kind {kind!r} has {only} {names})",
            kind=kind,
            name=name,
        )
    return expected


def _no_config(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    if config:
        raise ValidationError(
            f"Capability kind {kind!r} takes no config (got keys: {', '.join(sorted(config))})",
            kind=kind,
        )
    return {}


def _exec_config(config: dict[str, Any], enabled: bool) -> dict[str, Any]:
    unknown = sorted(set(config) - {"allow", "timeout_ms"})
    if unknown:
        raise ValidationError(
            f"exec:run config has unknown keys: {', '.join(unknown)} (known: allow, timeout_ms)",
            kind="exec",
            name="run",
        )
    out: dict[str, Any] = {}
    allow = config.get("allow")
    if allow is None:
        if enabled:
            raise ValidationError(
                'exec:run needs config {"allow": [commands...]}', kind="exec", name="run"
            )
    else:
        if not isinstance(allow, list) or not all(isinstance(a, str) for a in allow):
            raise ValidationError(
                "exec:run config.allow must be a list of strings", kind="exec", name="run"
            )
        commands: list[str] = []
        for entry in allow:
            command = entry.strip()
            if not _valid_command(command):
                raise ValidationError(
                    f"exec:run config.allow entry {entry!r} must be an absolute path or a bare "
                    f"command name (letters, digits, '._+-')",
                    kind="exec",
                    name="run",
                )
            if command not in commands:
                commands.append(command)
        if enabled and not commands:
            raise ValidationError(
                "exec:run config.allow must list at least one command", kind="exec", name="run"
            )
        out["allow"] = commands
    if "timeout_ms" in config:
        timeout = config["timeout_ms"]
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or timeout != int(timeout)
            or not 1 <= timeout <= EXEC_MAX_TIMEOUT_MS
        ):
            raise ValidationError(
                f"exec:run config.timeout_ms must be an integer from 1 to {EXEC_MAX_TIMEOUT_MS}",
                kind="exec",
                name="run",
            )
        out["timeout_ms"] = int(timeout)
    return out


def _valid_command(command: str) -> bool:
    if not command or "\x00" in command:
        return False
    if command.startswith("/"):
        return ".." not in command.split("/")
    return bool(_COMMAND_NAME.match(command))


def _env_name(name: str) -> str:
    if not _ENV_NAME.match(name):
        raise ValidationError(
            f"Capability env:{name} must name one environment variable "
            f"([A-Za-z_][A-Za-z0-9_]*; no wildcards)",
            kind="env",
            name=name,
        )
    if name.upper().startswith(_ENV_RESERVED_PREFIX):
        raise ValidationError(
            f"Capability env:{name} would expose the daemon's own configuration "
            f"({_ENV_RESERVED_PREFIX}* variables are never exposed)",
            kind="env",
            name=name,
        )
    return name


def _env_config(config: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(config) - {"value"})
    if unknown:
        raise ValidationError(
            f"env capability config has unknown keys: {', '.join(unknown)} (known: value)",
            kind="env",
        )
    if "value" in config:
        value = config["value"]
        if not isinstance(value, str) or "\x00" in value:
            raise ValidationError("env capability config.value must be a string", kind="env")
        return {"value": value}
    return {}
