"""Template settings: defaults, validation and the PATCH merge."""

from __future__ import annotations

import os
from typing import Any

from vmsystem.core.errors import MemoryBudgetExceeded, ValidationError
from vmsystem.models import RECOVERY_POLICIES, UNHANDLED_REJECTIONS, TemplateSettings
from vmsystem.runtime.entries import LANGUAGES

__all__ = [
    "DEFAULT_SETTINGS",
    "LIMIT_BOUNDS",
    "MAX_IDLE_TIMEOUT_S",
    "MAX_SEED",
    "check_idle_timeout",
    "check_memory_budget",
    "default_settings",
    "merge_settings",
]

#: The JSON form of the default settings (the defaults themselves are :class:`TemplateSettings`'s).
DEFAULT_SETTINGS: dict[str, Any] = TemplateSettings().to_dict()

#: Inclusive bounds of each limit.
LIMIT_BOUNDS: dict[str, tuple[int, int]] = {
    "wall_ms": (1, 3_600_000),
    "cpu_ms": (1, 3_600_000),
    "mem_mb": (8, 16_384),
    "max_events": (1, 10_000_000),
    "max_output_kb": (1, 1_048_576),
}

#: The longest ``settings.session.idle_timeout_s`` (and a session's own): 30 days.
MAX_IDLE_TIMEOUT_S = 30 * 24 * 3600

#: The largest ``settings.deterministic.seed`` (the largest integer JSON and JS keep exactly).
MAX_SEED = 2**53 - 1


def default_settings() -> TemplateSettings:
    """The default settings."""
    return TemplateSettings()


def check_memory_budget(mem_mb: int, budget_mb: int) -> None:
    """MEMORY_BUDGET_EXCEEDED if a session of ``mem_mb`` cannot fit one host's budget of
    sessions' ``mem_mb`` (``budget_mb``; 0: none): all isolates of a host process share one
    V8 pointer-compression cage of about 4 GiB."""
    if budget_mb and mem_mb > budget_mb:
        raise MemoryBudgetExceeded(
            f"limits.mem_mb {mem_mb} is more than one host's memory budget of {budget_mb} MiB "
            "(--host-memory-budget-mb): the sessions of a host share V8's ~4 GiB heap cage",
            mem_mb=mem_mb,
            memory_budget_mb=budget_mb,
        )


def merge_settings(current: TemplateSettings, patch: Any) -> TemplateSettings:
    """Merge ``patch`` (JSON form) into ``current`` key by key and validate the result."""
    if not isinstance(patch, dict):
        raise ValidationError("settings must be an object")
    merged = current.to_dict()
    for section, values in patch.items():
        if section not in DEFAULT_SETTINGS:
            raise ValidationError(f"unknown settings section {section!r}", section=section)
        if not isinstance(values, dict):
            raise ValidationError(f"settings.{section} must be an object")
        for key, value in values.items():
            if key not in DEFAULT_SETTINGS[section]:
                raise ValidationError(
                    f"unknown setting {section}.{key}", setting=f"{section}.{key}"
                )
            merged.setdefault(section, {})[key] = _check(section, key, value)
    return TemplateSettings.from_dict(merged)


def _check(section: str, key: str, value: Any) -> Any:
    name = f"settings.{section}.{key}"
    if section == "limits":
        low, high = LIMIT_BOUNDS[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationError(f"{name} must be an integer from {low} to {high}", setting=name)
        return value
    if section == "deterministic":
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED
        ):
            raise ValidationError(
                f"{name} must be null or an integer from 0 to {MAX_SEED}", setting=name
            )
        return value
    if section == "runtime" and key == "unhandled_rejections":
        if value not in UNHANDLED_REJECTIONS:
            raise ValidationError(
                f"{name} must be one of {', '.join(UNHANDLED_REJECTIONS)}", setting=name
            )
        return value
    if section == "runtime" and key == "language":
        if value not in LANGUAGES:
            raise ValidationError(f"{name} must be one of {', '.join(LANGUAGES)}", setting=name)
        return value
    if section == "worktree":
        return _check_seed(name, value)
    if section == "recovery":
        if value not in RECOVERY_POLICIES:
            raise ValidationError(
                f"{name} must be one of {', '.join(RECOVERY_POLICIES)}", setting=name
            )
        return value
    if section == "session":
        return check_idle_timeout(name, value)
    if section == "runtime":
        if not isinstance(value, bool):
            raise ValidationError(f"{name} must be a boolean", setting=name)
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"{name} must be a list of strings", setting=name)
    return value


def check_idle_timeout(name: str, value: Any) -> float | None:
    """An idle timeout: null or a number of seconds from 0 (never) to
    :data:`MAX_IDLE_TIMEOUT_S`."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 <= value <= MAX_IDLE_TIMEOUT_S
    ):
        raise ValidationError(
            f"{name} must be null or a number of seconds from 0 (never) to {MAX_IDLE_TIMEOUT_S}",
            setting=name,
        )
    return float(value)


def _check_seed(name: str, value: Any) -> str | None:
    """A seed is null or an absolute path to a directory or an archive file on the daemon's
    machine (checked again, and read, when a managed worktree is created)."""
    if value is None:
        return None
    if not isinstance(value, str) or not os.path.isabs(value):
        raise ValidationError(f"{name} must be null or an absolute path", setting=name)
    if not (os.path.isdir(value) or os.path.isfile(value)):
        raise ValidationError(
            f"{name} must name an existing directory or archive file", setting=name, path=value
        )
    return value
