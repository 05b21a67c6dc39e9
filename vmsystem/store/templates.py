"""Template persistence: templates and their capabilities, startup files, modules, libraries."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from vmsystem.models import Capability, StartupFile, Template, TemplateSettings
from vmsystem.store.database import Database
from vmsystem.store.rows import (
    capability_from_row,
    capability_params,
    startup_file_from_row,
    startup_file_params,
)
from vmsystem.store.schema import (
    template_capabilities,
    template_libraries,
    template_modules,
    template_startup_files,
    templates,
)

__all__ = ["TemplateStore"]


def _next_position(table: Table) -> Any:
    """``MAX(position) + 1`` of the template's rows (0 for the first), as a scalar subquery."""
    return (
        select(func.coalesce(func.max(table.c.position), -1) + 1)
        .where(table.c.template_id == bindparam("parent_id"))
        .scalar_subquery()
    )


_INSERT_TEMPLATE = insert(templates)
_INSERT_CAPABILITY = insert(template_capabilities)
_APPEND_CAPABILITY = insert(template_capabilities).values(
    position=_next_position(template_capabilities)
)
_INSERT_STARTUP_FILE = insert(template_startup_files)
_APPEND_STARTUP_FILE = insert(template_startup_files).values(
    position=_next_position(template_startup_files)
)
_NAME_TABLES: dict[str, Table] = {"modules": template_modules, "libraries": template_libraries}


class _Children:
    """Children of templates loaded with one query per table, grouped by template id."""

    def __init__(self, connection: Connection, template_id: str | None) -> None:
        def rows(table: Table, *order: Any) -> list[Any]:
            query = select(table).order_by(table.c.template_id, *order)
            if template_id is not None:
                query = query.where(table.c.template_id == template_id)
            return list(connection.execute(query))

        self.capabilities: dict[str, list[Capability]] = defaultdict(list)
        for row in rows(template_capabilities, template_capabilities.c.position):
            self.capabilities[row.template_id].append(capability_from_row(row))
        self.startup_files: dict[str, list[StartupFile]] = defaultdict(list)
        order = (template_startup_files.c.order_index, template_startup_files.c.position)
        for row in rows(template_startup_files, *order):
            self.startup_files[row.template_id].append(startup_file_from_row(row))
        self.names: dict[str, dict[str, list[str]]] = {}
        for key, table in _NAME_TABLES.items():
            grouped: dict[str, list[str]] = defaultdict(list)
            for row in rows(table, table.c.position):
                grouped[row.template_id].append(row.name)
            self.names[key] = grouped

    def template(self, row: Any) -> Template:
        """The full template of a ``templates`` row."""
        return Template(
            id=row.id,
            name=row.name,
            engine=row.engine,
            settings=TemplateSettings.from_dict(row.settings),
            modules=list(self.names["modules"].get(row.id, [])),
            libraries=list(self.names["libraries"].get(row.id, [])),
            created_at=row.created_at,
            updated_at=row.updated_at,
            capabilities=list(self.capabilities.get(row.id, [])),
            startup_files=list(self.startup_files.get(row.id, [])),
            revision=row.revision,
        )


def _replace_names(
    connection: Connection, table: Table, template_id: str, names: list[str]
) -> None:
    connection.execute(delete(table).where(table.c.template_id == template_id))
    if names:
        connection.execute(
            insert(table),
            [{"template_id": template_id, "name": n, "position": i} for i, n in enumerate(names)],
        )


class TemplateStore:
    """Template methods of :class:`vmsystem.store.Store` (synchronous, thread-safe)."""

    _db: Database

    def insert_template(self, t: Template) -> None:
        """Insert a template with its children (capabilities, startup files, modules, libraries).

        Raises :class:`UniqueViolation` (``constraint="template_name"``) on a duplicate name.
        """
        with self._db.write() as connection:
            connection.execute(
                _INSERT_TEMPLATE,
                {
                    "id": t.id,
                    "name": t.name,
                    "engine": t.engine,
                    "settings": t.settings.to_dict(),
                    "created_at": t.created_at,
                    "updated_at": t.updated_at,
                    "revision": t.revision,
                },
            )
            if t.capabilities:
                connection.execute(
                    _INSERT_CAPABILITY,
                    [capability_params(c) | {"position": i} for i, c in enumerate(t.capabilities)],
                )
            if t.startup_files:
                connection.execute(
                    _INSERT_STARTUP_FILE,
                    [
                        startup_file_params(s) | {"position": i}
                        for i, s in enumerate(t.startup_files)
                    ],
                )
            _replace_names(connection, template_modules, t.id, t.modules)
            _replace_names(connection, template_libraries, t.id, t.libraries)

    def get_template(self, template_id: str) -> Template | None:
        """The template with its children, or ``None``.

        Capabilities come in insertion order, startup files by ``order_index`` then insertion.
        """
        with self._db.read() as connection:
            row = connection.execute(select(templates).where(templates.c.id == template_id)).first()
            if row is None:
                return None
            return _Children(connection, row.id).template(row)

    def get_template_by_name(self, name: str) -> Template | None:
        """The template named ``name`` (exact match), or ``None``."""
        with self._db.read() as connection:
            row = connection.execute(select(templates).where(templates.c.name == name)).first()
            if row is None:
                return None
            return _Children(connection, row.id).template(row)

    def list_templates(self) -> list[Template]:
        """Every template with its children, newest first (``created_at`` DESC, then ``id``)."""
        with self._db.read() as connection:
            rows = list(
                connection.execute(
                    select(templates).order_by(templates.c.created_at.desc(), templates.c.id.desc())
                )
            )
            if not rows:
                return []
            children = _Children(connection, None)
            return [children.template(row) for row in rows]

    def update_template(
        self,
        template_id: str,
        *,
        updated_at: datetime,
        name: str | None = None,
        engine: str | None = None,
        settings: TemplateSettings | None = None,
        modules: list[str] | None = None,
        libraries: list[str] | None = None,
    ) -> bool:
        """Change the given fields (``None`` = unchanged; lists are replaced as a whole) and
        add one to the template's ``revision`` (every call is a change: capabilities and
        startup files are written separately, then recorded here).

        Returns ``False`` if the template does not exist. A name collision raises
        :class:`UniqueViolation` (``constraint="template_name"``).
        """
        values: dict[str, Any] = {"updated_at": updated_at, "revision": templates.c.revision + 1}
        if name is not None:
            values["name"] = name
        if engine is not None:
            values["engine"] = engine
        if settings is not None:
            values["settings"] = settings.to_dict()
        with self._db.write() as connection:
            result = connection.execute(
                update(templates).where(templates.c.id == template_id).values(values)
            )
            if result.rowcount == 0:
                return False
            if modules is not None:
                _replace_names(connection, template_modules, template_id, modules)
            if libraries is not None:
                _replace_names(connection, template_libraries, template_id, libraries)
            return True

    def delete_template(self, template_id: str) -> bool:
        """Delete a template and its children; its sessions keep their history.

        Returns ``False`` if the template does not exist.
        """
        with self._db.write() as connection:
            result = connection.execute(delete(templates).where(templates.c.id == template_id))
            return result.rowcount > 0

    def insert_capability(self, c: Capability) -> None:
        """Append a capability to its template.

        Raises :class:`UniqueViolation` (``constraint="capability"``) if the template already
        has this ``(kind, name)``, :class:`ForeignKeyViolation` if the template does not exist.
        """
        with self._db.write() as connection:
            connection.execute(
                _APPEND_CAPABILITY, capability_params(c) | {"parent_id": c.template_id}
            )

    def delete_capability(self, template_id: str, capability_id: str) -> bool:
        """Remove a capability of a template; ``False`` if there is no such capability."""
        table = template_capabilities
        with self._db.write() as connection:
            result = connection.execute(
                delete(table).where(table.c.id == capability_id, table.c.template_id == template_id)
            )
            return result.rowcount > 0

    def insert_startup_file(self, s: StartupFile) -> None:
        """Append a startup file to its template.

        Raises :class:`UniqueViolation` (``constraint="startup_file_path"``) if the template
        already has this path, :class:`ForeignKeyViolation` if the template does not exist.
        """
        with self._db.write() as connection:
            connection.execute(
                _APPEND_STARTUP_FILE, startup_file_params(s) | {"parent_id": s.template_id}
            )

    def delete_startup_file(self, template_id: str, startup_file_id: str) -> bool:
        """Remove a startup file of a template; ``False`` if there is no such startup file."""
        table = template_startup_files
        with self._db.write() as connection:
            result = connection.execute(
                delete(table).where(
                    table.c.id == startup_file_id, table.c.template_id == template_id
                )
            )
            return result.rowcount > 0
