"""Request bodies (unknown fields are rejected) and documented response shapes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "CapabilityIn",
    "CompleteIn",
    "LibraryDownloadIn",
    "NameIn",
    "ReplIn",
    "RestartIn",
    "RunFileIn",
    "SessionIn",
    "StartupFileIn",
    "TemplateIn",
    "TemplatePatch",
]


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def _storable(value: Any, where: str) -> None:
    """Refuse JSON the store cannot keep: strings with lone surrogates (``"\\ud800"`` is
    valid JSON but not Unicode text) and integers outside 64 bits."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{where} is not valid Unicode text (lone surrogate)") from None
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError(f"{where} is outside the 64-bit integer range")
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable(key, f"{where} key")
            _storable(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _storable(item, f"{where}[{i}]")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _only_storable_json(cls, value: Any, info: Any) -> Any:
        _storable(value, str(info.field_name))
        return value


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


class LibraryDownloadIn(_Strict):
    """Catalog libraries to download into the daemon's cache (``lodash`` or
    ``lodash@4.17.21``)."""

    names: list[str]


class CapabilityIn(_Strict):
    """Grant a capability (see GET /api/v1/metadata/capabilities)."""

    kind: str
    name: str
    enabled: bool = True
    config: dict[str, Any] = Field(default_factory=dict)


class StartupFileIn(_Strict):
    """A worktree-relative file run when sessions start."""

    path: str
    order_index: int = Field(0, ge=INT32_MIN, le=INT32_MAX)
    mode: str = "eval"


class SessionIn(_Strict):
    """Start a session from a template (ID or name) in an existing absolute directory, or
    (without ``worktree_path``) in a managed worktree the daemon creates."""

    template_id: str = Field(description="Template ID, or the template's name.")
    worktree_path: str | None = Field(
        None,
        description="An existing absolute directory on the daemon's machine; omitted or null: "
        "a fresh managed worktree under --worktrees-dir, removed when the session is purged.",
    )
    workspace_id: str | None = None
    base_commit_oid: str | None = None
    idle_timeout_s: float | None = Field(
        None,
        description="Close the session after this many seconds without activity (0: never; "
        "at most 30 days); omitted or null: the template's settings.session.idle_timeout_s, "
        "else the daemon's default.",
    )
    interactive: bool = Field(
        False,
        description="The session serves a person or an agent at a prompt (a REPL, MCP, a "
        "notebook kernel): without an idle timeout from the request or the template it gets "
        "the daemon's --interactive-idle-timeout.",
    )


class RestartIn(_Strict):
    """Restart a session (the body is optional)."""

    refresh_template: bool = Field(
        False,
        description="Take the template's current settings, modules, libraries, capabilities "
        "and startup files instead of the session's snapshot.",
    )


class ForkIn(_Strict):
    """Fork a session (the body is optional)."""

    until_execution_id: str | None = Field(
        None,
        description="Replay up to and including this execution of the source (default: all).",
    )


class CompleteIn(_Strict):
    """Ask for completions at a cursor."""

    code: str = Field(description="The input being typed.")
    cursor: int | None = Field(
        None,
        ge=0,
        description="Position in `code`, in characters (Unicode code points); default: its end.",
    )


class ReplIn(_Strict):
    """Run a REPL snippet."""

    session_id: str
    input: str
    stream: bool = Field(False, description="Answer 202 at once; follow the event stream.")
    language: Literal["javascript", "typescript"] | None = Field(
        None,
        description="The input's language (default: the template's settings.runtime.language); "
        "TypeScript types are stripped before it runs.",
    )


class RunFileIn(_Strict):
    """Run a worktree file."""

    session_id: str
    path: str
    args: dict[str, Any] = Field(default_factory=dict, description="Available as __ARGS__.")
    env: dict[str, str] = Field(default_factory=dict, description="Available as process.env.")
    stream: bool = False
