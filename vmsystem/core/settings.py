"""Template settings: defaults, validation and the PATCH merge."""

from __future__ import annotations

import copy
from typing import Any

from vmsystem.core.errors import ValidationError

__all__ = ["DEFAULT_SETTINGS", "LIMIT_BOUNDS", "default_settings", "merge_settings"]

DEFAULT_SETTINGS: dict[str, Any] = {
    "limits": {
        "wall_ms": 5000,
        "cpu_ms": 2000,
        "mem_mb": 128,
        "max_events": 50000,
        "max_output_kb": 256,
    },
    "runtime": {"strict": False, "console": True},
    "resolver": {"roots": ["."], "extensions": [".js", ".mjs"]},
}

#: Inclusive bounds of each limit.
LIMIT_BOUNDS: dict[str, tuple[int, int]] = {
    "wall_ms": (1, 3_600_000),
    "cpu_ms": (1, 3_600_000),
    "mem_mb": (8, 16_384),
    "max_events": (1, 10_000_000),
    "max_output_kb": (1, 1_048_576),
}


def default_settings() -> dict[str, Any]:
    """A fresh copy of the default settings."""
    return copy.deepcopy(DEFAULT_SETTINGS)


def merge_settings(current: dict[str, Any], patch: Any) -> dict[str, Any]:
    """Merge ``patch`` into ``current`` key by key and validate the result."""
    if not isinstance(patch, dict):
        raise ValidationError("settings must be an object")
    merged = copy.deepcopy(current)
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
    return merged


def _check(section: str, key: str, value: Any) -> Any:
    name = f"settings.{section}.{key}"
    if section == "limits":
        low, high = LIMIT_BOUNDS[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationError(f"{name} must be an integer from {low} to {high}", setting=name)
        return value
    if section == "runtime":
        if not isinstance(value, bool):
            raise ValidationError(f"{name} must be a boolean", setting=name)
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"{name} must be a list of strings", setting=name)
    return value
