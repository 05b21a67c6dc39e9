"""Capability grants as the host side reads them, and what a session derives from them.

The core validates grants when a template is written (``core/capabilities.py``); here they are
plain data (:class:`Grant`) that can cross a process boundary, and the helpers that turn them
into a session's environment, hidden globals, module list and exec policy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "DEFAULT_HIDDEN_GLOBALS",
    "ENV_RESERVED_PREFIX",
    "EXEC_MAX_TIMEOUT_MS",
    "HIDEABLE_GLOBALS",
    "CapabilityLike",
    "ExecPolicy",
    "Grant",
    "exec_policy",
    "grants_of",
    "hidden_globals",
    "session_environment",
    "session_modules",
]

#: The longest an ``exec.run`` command may run (and the default), in milliseconds.
EXEC_MAX_TIMEOUT_MS = 10_000

#: Globals absent unless a template grants ``global:<Name>`` with ``enabled=true``:
#: shared memory gives code a high-resolution timer and ``Atomics.wait`` can block the
#: runtime's thread, and no session needs them to run ordinary code.
DEFAULT_HIDDEN_GLOBALS = ("SharedArrayBuffer", "Atomics")

#: Standard globals a template may hide with ``global:<Name>`` and ``enabled=false``.
#: ``undefined``, ``NaN``, ``Infinity`` and ``globalThis`` cannot be removed; ``require``
#: is governed by the module list. Hiding removes the global binding only: a constructor
#: stays reachable through its instances (``(function () {}).constructor``), so hiding is a
#: way to shape the environment (determinism, fewer APIs), not a security boundary.
HIDEABLE_GLOBALS = (
    "AggregateError",
    "Array",
    "ArrayBuffer",
    "AsyncDisposableStack",
    "Atomics",
    "BigInt",
    "BigInt64Array",
    "BigUint64Array",
    "Boolean",
    "DataView",
    "Date",
    "DisposableStack",
    "Error",
    "EvalError",
    "FinalizationRegistry",
    "Float16Array",
    "Float32Array",
    "Float64Array",
    "Function",
    "Int16Array",
    "Int32Array",
    "Int8Array",
    "Intl",
    "Iterator",
    "JSON",
    "Map",
    "Math",
    "Number",
    "Object",
    "Promise",
    "Proxy",
    "RangeError",
    "ReferenceError",
    "Reflect",
    "RegExp",
    "Set",
    "SharedArrayBuffer",
    "String",
    "SuppressedError",
    "Symbol",
    "SyntaxError",
    "Temporal",
    "TypeError",
    "URIError",
    "Uint16Array",
    "Uint32Array",
    "Uint8Array",
    "Uint8ClampedArray",
    "WeakMap",
    "WeakRef",
    "WeakSet",
    "console",
    "decodeURI",
    "decodeURIComponent",
    "encodeURI",
    "encodeURIComponent",
    "escape",
    "eval",
    "isFinite",
    "isNaN",
    "parseFloat",
    "parseInt",
    "process",
    "unescape",
)
#: The daemon's own configuration (its bearer token included) is never exposable.
ENV_RESERVED_PREFIX = "VMSYSTEM_"


class CapabilityLike(Protocol):
    """What the helpers read of a capability (a :class:`Grant`, a store record, ...)."""

    @property
    def kind(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def enabled(self) -> bool: ...

    @property
    def config(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Grant:
    """One capability of a template, as plain data (picklable, JSON-able)."""

    kind: str
    name: str
    enabled: bool = True
    config: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, capability: CapabilityLike) -> Grant:
        """A grant with the fields of any capability-shaped object."""
        return cls(
            capability.kind, capability.name, bool(capability.enabled), dict(capability.config)
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "kind": self.kind,
            "name": self.name,
            "enabled": self.enabled,
            "config": self.config,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Grant:
        """The inverse of :meth:`to_dict`."""
        return cls(
            str(data["kind"]),
            str(data["name"]),
            bool(data.get("enabled", True)),
            dict(data.get("config") or {}),
        )


def grants_of(capabilities: Iterable[CapabilityLike]) -> tuple[Grant, ...]:
    """Plain grants of capability-shaped objects (for a :class:`RuntimeSpec`)."""
    return tuple(Grant.of(c) for c in capabilities)


def _granted(capabilities: Iterable[CapabilityLike], kind: str) -> list[CapabilityLike]:
    return [c for c in capabilities if c.kind == kind]


def session_environment(
    capabilities: Iterable[CapabilityLike], environ: Mapping[str, str]
) -> dict[str, str]:
    """What ``process.env`` shows: only variables granted by enabled ``env:<VAR>``."""
    env: dict[str, str] = {}
    for cap in _granted(capabilities, "env"):
        if not cap.enabled or cap.name.upper().startswith(ENV_RESERVED_PREFIX):
            continue
        config = cap.config or {}
        value = config.get("value")
        if isinstance(value, str):
            env[cap.name] = value
        elif cap.name in environ:
            env[cap.name] = environ[cap.name]
    return env


def hidden_globals(capabilities: Iterable[CapabilityLike]) -> tuple[str, ...]:
    """Globals to remove before user code: the default-hidden ones not granted, plus every
    ``global:<Name>`` with ``enabled=false``."""
    known = set(HIDEABLE_GLOBALS)
    caps = _granted(capabilities, "global")
    exposed = {c.name for c in caps if c.enabled}
    hidden = [g for g in DEFAULT_HIDDEN_GLOBALS if g not in exposed]
    for cap in caps:
        if not cap.enabled and cap.name in known and cap.name not in hidden:
            hidden.append(cap.name)
    return tuple(hidden)


def session_modules(modules: Sequence[str], capabilities: Iterable[CapabilityLike]) -> list[str]:
    """The native modules a session gets: the template's list plus enabled ``module:<name>``
    grants, minus ``module:<name>`` grants with ``enabled=false`` (a denial wins)."""
    caps = _granted(capabilities, "module")
    denied = {c.name.strip().lower() for c in caps if not c.enabled}
    out: list[str] = []
    for name in [*modules, *(c.name for c in caps if c.enabled)]:
        key = name.strip().lower()
        if key not in denied and key not in out:
            out.append(key)
    return out


@dataclass(frozen=True)
class ExecPolicy:
    """What ``exec.run`` may do in one session."""

    allow: tuple[str, ...]
    timeout_ms: int
    #: ``exec:network`` granted: commands share the host's network namespace.
    network: bool = False


def exec_policy(capabilities: Iterable[CapabilityLike]) -> ExecPolicy | None:
    """The enabled ``exec:run`` grant (and ``exec:network``) as a policy, or None."""
    granted = _granted(capabilities, "exec")
    network = any(c.name == "network" and c.enabled for c in granted)
    for cap in granted:
        if cap.name == "run" and cap.enabled:
            config = cap.config or {}
            allow = tuple(a for a in config.get("allow") or () if isinstance(a, str))
            timeout = config.get("timeout_ms", EXEC_MAX_TIMEOUT_MS)
            if not isinstance(timeout, int) or not 1 <= timeout <= EXEC_MAX_TIMEOUT_MS:
                timeout = EXEC_MAX_TIMEOUT_MS
            return ExecPolicy(allow, timeout, network)
    return None
