"""Request bodies (unknown fields are rejected) and documented response shapes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CapabilityIn",
    "NameIn",
    "ReplIn",
    "RunFileIn",
    "SessionIn",
    "StartupFileIn",
    "TemplateIn",
    "TemplatePatch",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TemplateIn(_Strict):
    """Create a template."""

    name: str = Field(description="Unique template name.")
    engine: str | None = Field(None, description="`v8` (default) or the legacy alias `goja`.")


class TemplatePatch(_Strict):
    """Change a template: settings are merged key by key."""

    name: str | None = None
    engine: str | None = None
    settings: dict[str, Any] | None = Field(
        None, description='e.g. {"limits": {"wall_ms": 200}} changes only wall_ms.'
    )


class NameIn(_Strict):
    """A module or library name."""

    name: str


class CapabilityIn(_Strict):
    """Grant a capability (see GET /api/v1/metadata/capabilities)."""

    kind: str
    name: str
    enabled: bool = True
    config: dict[str, Any] = Field(default_factory=dict)


class StartupFileIn(_Strict):
    """A worktree-relative file run when sessions start."""

    path: str
    order_index: int = 0
    mode: str = "eval"


class SessionIn(_Strict):
    """Start a session from a template (ID or name) in an existing absolute directory."""

    template_id: str = Field(description="Template ID, or the template's name.")
    worktree_path: str
    workspace_id: str | None = None
    base_commit_oid: str | None = None


class ReplIn(_Strict):
    """Run a REPL snippet."""

    session_id: str
    input: str
    stream: bool = Field(False, description="Answer 202 at once; follow the event stream.")


class RunFileIn(_Strict):
    """Run a worktree file."""

    session_id: str
    path: str
    args: dict[str, Any] = Field(default_factory=dict, description="Available as __ARGS__.")
    env: dict[str, str] = Field(default_factory=dict, description="Available as process.env.")
    stream: bool = False
