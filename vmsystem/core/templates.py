"""TemplateService: runtime profiles and their modules, libraries, capabilities, startup files."""

from __future__ import annotations

import builtins
from typing import Any

from vmsystem.core.capabilities import validate_capability
from vmsystem.core.errors import (
    Conflict,
    EngineNotSupported,
    StartupModeUnsupported,
    TemplateInUse,
    TemplateNotFound,
    ValidationError,
)
from vmsystem.core.ids import new_id, normalize_id, utcnow
from vmsystem.core.libraries import LibraryResolver
from vmsystem.core.modules import normalize_module_name
from vmsystem.core.paths import clean_relative_path
from vmsystem.core.settings import check_memory_budget, default_settings, merge_settings
from vmsystem.models import Capability, SessionStatus, StartupFile, Template
from vmsystem.store import ForeignKeyViolation, Store, UniqueViolation

__all__ = ["DEFAULT_ENGINE", "ENGINE_ALIASES", "TemplateService", "normalize_engine"]

DEFAULT_ENGINE = "v8"
#: Legacy engine names accepted for compatibility; stored as the real engine.
ENGINE_ALIASES = {"goja": DEFAULT_ENGINE}
SUPPORTED_ENGINES = (DEFAULT_ENGINE,)
_CONFLICTS = {
    "template_name": "A template with this name already exists",
    "capability": "This capability is already configured on the template",
    "startup_file_path": "This startup file path is already configured on the template",
}


def normalize_engine(engine: str | None) -> str:
    """``v8`` for empty, ``v8`` and legacy ``goja``; ENGINE_NOT_SUPPORTED otherwise."""
    name = (engine or "").strip().lower() or DEFAULT_ENGINE
    name = ENGINE_ALIASES.get(name, name)
    if name not in SUPPORTED_ENGINES:
        raise EngineNotSupported(
            f"Engine {engine!r} is not supported (supported: {', '.join(SUPPORTED_ENGINES)})",
            engine=engine,
            supported=list(SUPPORTED_ENGINES),
        )
    return name


def _conflict(exc: UniqueViolation, **details: Any) -> Conflict:
    return Conflict(
        _CONFLICTS.get(exc.constraint, "Conflict"), constraint=exc.constraint, **details
    )


class TemplateService:
    """Create, read, change and delete templates."""

    #: One host's budget of sessions' ``mem_mb`` (the host pool's; 0: none).
    memory_budget_mb: int = 0

    def __init__(self, store: Store, libraries: LibraryResolver) -> None:
        self._store = store
        self._libraries = libraries

    # ------------------------------------------------------------------ templates
    def create(self, name: str, engine: str | None = None) -> Template:
        """A new template with default settings; duplicate names are CONFLICT."""
        clean = (name or "").strip()
        if not clean:
            raise ValidationError("name is required")
        now = utcnow()
        template = Template(
            id=new_id(),
            name=clean,
            engine=normalize_engine(engine),
            settings=default_settings(),
            modules=[],
            libraries=[],
            created_at=now,
            updated_at=now,
        )
        try:
            self._store.insert_template(template)
        except UniqueViolation as exc:
            raise _conflict(exc, name=clean) from None
        return template

    def get(self, template_id: str) -> Template:
        """A template with its capabilities and startup files."""
        tid = normalize_id(template_id, "template_id")
        template = self._store.get_template(tid)
        if template is None:
            raise TemplateNotFound(template_id=tid)
        return template

    def resolve(self, ref: str) -> Template:
        """A template by ID or, failing that, by name."""
        text = (ref or "").strip()
        if not text:
            raise ValidationError("template_id is required")
        try:
            return self.get(text)
        except ValidationError:
            found = self._store.get_template_by_name(text)
            if found is None:
                raise TemplateNotFound(
                    f"Template not found: {text!r} is neither a template ID nor a name",
                    template=text,
                ) from None
            return found

    def list(self) -> list[Template]:
        """All templates, newest first."""
        return self._store.list_templates()

    def update(
        self,
        template_id: str,
        *,
        name: str | None = None,
        engine: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Template:
        """Rename, change engine, or merge settings (``{"limits": {"wall_ms": 200}}``)."""
        current = self.get(template_id)
        changes: dict[str, Any] = {}
        if name is not None:
            clean = name.strip()
            if not clean:
                raise ValidationError("name must not be empty")
            changes["name"] = clean
        if engine is not None:
            changes["engine"] = normalize_engine(engine)
        if settings is not None:
            changes["settings"] = merge_settings(current.settings, settings)
            check_memory_budget(changes["settings"].limits.mem_mb, self.memory_budget_mb)
        if changes:
            try:
                self._store.update_template(current.id, updated_at=utcnow(), **changes)
            except UniqueViolation as exc:
                raise _conflict(exc, name=changes.get("name")) from None
        return self.get(current.id)

    def delete(self, template_id: str) -> str:
        """Delete a template; TEMPLATE_IN_USE while it has starting or ready sessions."""
        template = self.get(template_id)
        live = self._store.count_sessions(
            template.id, (SessionStatus.STARTING, SessionStatus.READY)
        )
        if live:
            raise TemplateInUse(
                f"Template has {live} live session(s); close them before deleting it",
                template_id=template.id,
                live_sessions=live,
            )
        self._store.delete_template(template.id)
        return template.id

    # ------------------------------------------------------------------ modules & libraries
    def add_module(self, template_id: str, name: str) -> tuple[str, str]:
        """Expose a native module to ``require`` (idempotent)."""
        template = self.get(template_id)
        module = normalize_module_name(name)
        if module not in template.modules:
            self._store.update_template(
                template.id, updated_at=utcnow(), modules=[*template.modules, module]
            )
        return template.id, module

    def remove_module(self, template_id: str, name: str) -> tuple[str, str]:
        """Stop exposing a module (absent names are a no-op)."""
        template = self.get(template_id)
        module = (name or "").strip().lower()
        if not module:
            raise ValidationError("module name is required")
        if module in template.modules:
            remaining = [m for m in template.modules if m != module]
            self._store.update_template(template.id, updated_at=utcnow(), modules=remaining)
        return template.id, module

    def add_library(self, template_id: str, name: str) -> tuple[str, str]:
        """Load a catalog library in new sessions; LIBRARY_NOT_FOUND for unknown names."""
        template = self.get(template_id)
        spec = self._libraries.check(name)
        if spec not in template.libraries:
            self._store.update_template(
                template.id, updated_at=utcnow(), libraries=[*template.libraries, spec]
            )
        return template.id, spec

    def remove_library(self, template_id: str, name: str) -> tuple[str, str]:
        """Stop loading a library (absent names are a no-op)."""
        template = self.get(template_id)
        spec = (name or "").strip()
        if not spec:
            raise ValidationError("library name is required")
        if spec in template.libraries:
            remaining = [lib for lib in template.libraries if lib != spec]
            self._store.update_template(template.id, updated_at=utcnow(), libraries=remaining)
        return template.id, spec

    # ------------------------------------------------------------------ capabilities
    def add_capability(
        self,
        template_id: str,
        kind: str,
        name: str,
        *,
        enabled: bool = True,
        config: dict[str, Any] | None = None,
    ) -> Capability:
        """Grant a capability (validated against the catalog); duplicates are CONFLICT."""
        template = self.get(template_id)
        kind_n, name_n, config_n = validate_capability(kind, name, enabled, config or {})
        capability = Capability(
            id=new_id(),
            template_id=template.id,
            kind=kind_n,
            name=name_n,
            enabled=enabled,
            config=config_n,
        )
        try:
            self._store.insert_capability(capability)
        except UniqueViolation as exc:
            raise _conflict(exc, template_id=template.id, kind=kind_n, name=name_n) from None
        except ForeignKeyViolation:
            raise TemplateNotFound(template_id=template.id) from None
        self._store.update_template(template.id, updated_at=utcnow())
        return capability

    def remove_capability(self, template_id: str, capability_id: str) -> tuple[str, str]:
        """Revoke a capability by its ID; returns ``(template_id, capability_id)``."""
        template = self.get(template_id)
        cid = normalize_id(capability_id, "capability_id")
        # Like module and library removal, removing an absent capability is a no-op.
        if self._store.delete_capability(template.id, cid):
            self._store.update_template(template.id, updated_at=utcnow())
        return template.id, cid

    def capabilities(self, template_id: str) -> builtins.list[Capability]:
        """Capabilities of a template."""
        return self.get(template_id).capabilities

    # ------------------------------------------------------------------ startup files
    def add_startup_file(
        self, template_id: str, path: str, *, order_index: int = 0, mode: str | None = "eval"
    ) -> StartupFile:
        """Run ``path`` (worktree-relative) when sessions start, in ascending ``order_index``."""
        template = self.get(template_id)
        clean = clean_relative_path(path, template_id=template.id)
        mode_n = (mode or "eval").strip().lower() or "eval"
        if mode_n != "eval":
            raise StartupModeUnsupported(
                template_id=template.id,
                requested_mode=mode,
                supported_modes=["eval"],
                migration_option="Use mode=eval until import support is implemented",
            )
        startup = StartupFile(
            id=new_id(), template_id=template.id, path=clean, order_index=order_index, mode=mode_n
        )
        try:
            self._store.insert_startup_file(startup)
        except UniqueViolation as exc:
            raise _conflict(exc, template_id=template.id, path=clean) from None
        except ForeignKeyViolation:
            raise TemplateNotFound(template_id=template.id) from None
        self._store.update_template(template.id, updated_at=utcnow())
        return startup

    def remove_startup_file(self, template_id: str, startup_file_id: str) -> tuple[str, str]:
        """Remove a startup file by its ID; returns ``(template_id, startup_file_id)``."""
        template = self.get(template_id)
        sid = normalize_id(startup_file_id, "startup_file_id")
        if self._store.delete_startup_file(template.id, sid):
            self._store.update_template(template.id, updated_at=utcnow())
        return template.id, sid

    def startup_files(self, template_id: str) -> builtins.list[StartupFile]:
        """Startup files of a template in run order."""
        return self.get(template_id).startup_files
