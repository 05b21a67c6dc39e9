"""Templates and their capabilities, startup files, modules and libraries."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, event, func, select

from vmsystem.models import Limits, TemplateSettings
from vmsystem.store import ForeignKeyViolation, SessionStatus, Store, Template, UniqueViolation
from vmsystem.store.schema import (
    template_capabilities,
    template_libraries,
    template_modules,
    template_startup_files,
)

from . import factories as f


def full_template(name: str = "full", created: float = 0) -> Template:
    """A template with two of each child; startup files inserted out of ``order_index`` order."""
    t = f.template(name, created=created, modules=["fs", "path"], libraries=["lodash", "dayjs"])
    return dataclasses.replace(
        t,
        capabilities=[
            f.capability(t.id, "fs", kind="module"),
            f.capability(t.id, "net", kind="host", enabled=False, config={"hosts": ["a"]}),
        ],
        startup_files=[
            f.startup_file(t.id, "b.js", order_index=2),
            f.startup_file(t.id, "a.js", order_index=1),
        ],
    )


def test_insert_then_get_round_trips_the_template_with_its_children(store: Store) -> None:
    t = full_template()
    store.insert_template(t)
    loaded = store.get_template(t.id)
    assert loaded is not None
    assert loaded.capabilities == t.capabilities
    assert [s.path for s in loaded.startup_files] == ["a.js", "b.js"]  # order_index ASC
    assert loaded.modules == ["fs", "path"]
    assert loaded.libraries == ["lodash", "dayjs"]
    assert (loaded.name, loaded.engine, loaded.settings) == (t.name, t.engine, t.settings)
    assert (loaded.created_at, loaded.updated_at) == (t.created_at, t.updated_at)


def test_get_template_of_an_unknown_id_is_none(store: Store) -> None:
    assert store.get_template(f.new_id()) is None


def test_get_template_by_name_finds_exact_name_only(store: Store) -> None:
    t = full_template("Exact")
    store.insert_template(t)
    assert store.get_template_by_name("Exact") == store.get_template(t.id)
    assert store.get_template_by_name("exact") is None
    assert store.get_template_by_name("Exac") is None


def test_duplicate_template_name_is_a_unique_violation_and_changes_nothing(store: Store) -> None:
    store.insert_template(f.template("same"))
    clash = f.template("same", capabilities=[])
    with pytest.raises(UniqueViolation) as info:
        store.insert_template(clash)
    assert info.value.constraint == "template_name"
    assert store.get_template(clash.id) is None
    assert len(store.list_templates()) == 1


def test_failed_insert_leaves_no_children_behind(store: Store, engine: Engine) -> None:
    store.insert_template(f.template("taken"))
    t = full_template("taken")
    with pytest.raises(UniqueViolation):
        store.insert_template(t)
    with engine.connect() as connection:
        count = select(func.count()).select_from(template_capabilities)
        assert connection.execute(count).scalar_one() == 0


def test_list_templates_is_newest_first_with_children(store: Store) -> None:
    old, new, middle = full_template("old", 0), full_template("new", 20), full_template("mid", 10)
    for t in (old, new, middle):
        store.insert_template(t)
    listed = store.list_templates()
    assert [t.name for t in listed] == ["new", "mid", "old"]
    assert all(len(t.capabilities) == 2 and len(t.startup_files) == 2 for t in listed)
    assert listed[0] == store.get_template(new.id)


def test_list_templates_breaks_created_at_ties_by_id(store: Store) -> None:
    items = [f.template(f"tie{i}", created=5) for i in range(5)]
    for t in items:
        store.insert_template(t)
    assert [t.id for t in store.list_templates()] == sorted((t.id for t in items), reverse=True)


def test_list_templates_of_an_empty_store_is_empty(store: Store) -> None:
    assert store.list_templates() == []


@contextmanager
def count_queries(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_list_templates_uses_one_query_per_table_not_per_template(
    store: Store, engine: Engine
) -> None:
    for i in range(10):
        store.insert_template(full_template(f"n{i}", i))
    with count_queries(engine) as statements:
        assert len(store.list_templates()) == 10
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 5  # templates + 4 child tables


def test_update_template_changes_only_given_fields(store: Store) -> None:
    t = full_template()
    store.insert_template(t)
    assert store.update_template(
        t.id, updated_at=f.at(60), settings=TemplateSettings(limits=Limits(mem_mb=64))
    )
    loaded = store.get_template(t.id)
    assert loaded is not None
    assert loaded.settings == TemplateSettings(limits=Limits(mem_mb=64))
    assert loaded.updated_at == f.at(60)
    assert (loaded.name, loaded.engine, loaded.modules, loaded.libraries) == (
        t.name,
        t.engine,
        t.modules,
        t.libraries,
    )
    assert loaded.created_at == t.created_at


def test_update_template_replaces_name_engine_modules_and_libraries(store: Store) -> None:
    t = full_template()
    store.insert_template(t)
    assert store.update_template(
        t.id,
        updated_at=f.at(1),
        name="renamed",
        engine="v8-next",
        modules=["url", "fs"],
        libraries=[],
    )
    loaded = store.get_template_by_name("renamed")
    assert loaded is not None
    assert (loaded.id, loaded.engine) == (t.id, "v8-next")
    assert loaded.modules == ["url", "fs"]
    assert loaded.libraries == []
    assert loaded.capabilities == t.capabilities


def test_update_of_an_unknown_template_returns_false(store: Store) -> None:
    assert store.update_template(f.new_id(), updated_at=f.at(1), name="x") is False


def test_update_to_a_taken_name_is_a_unique_violation(store: Store) -> None:
    a, b = f.template("a"), f.template("b")
    store.insert_template(a)
    store.insert_template(b)
    with pytest.raises(UniqueViolation) as info:
        store.update_template(b.id, updated_at=f.at(1), name="a")
    assert info.value.constraint == "template_name"
    loaded = store.get_template(b.id)
    assert loaded is not None and loaded.name == "b"


def test_duplicate_module_in_an_update_is_a_unique_violation(store: Store) -> None:
    t = f.template(modules=["fs"])
    store.insert_template(t)
    with pytest.raises(UniqueViolation) as info:
        store.update_template(t.id, updated_at=f.at(1), modules=["url", "url"])
    assert info.value.constraint == "template_module"
    loaded = store.get_template(t.id)
    assert loaded is not None and loaded.modules == ["fs"]


def test_delete_template_removes_it_and_cascades_to_children(store: Store, engine: Engine) -> None:
    t, other = full_template("gone"), full_template("stays")
    store.insert_template(t)
    store.insert_template(other)
    assert store.delete_template(t.id) is True
    assert store.get_template(t.id) is None
    assert store.get_template(other.id) is not None
    with engine.connect() as connection:
        for table in (
            template_capabilities,
            template_startup_files,
            template_modules,
            template_libraries,
        ):
            query = select(func.count()).select_from(table).where(table.c.template_id == t.id)
            assert connection.execute(query).scalar_one() == 0, table.name
            query = select(func.count()).select_from(table).where(table.c.template_id == other.id)
            assert connection.execute(query).scalar_one() == 2, table.name


def test_delete_of_an_unknown_template_returns_false(store: Store) -> None:
    assert store.delete_template(f.new_id()) is False


def test_deleting_a_template_keeps_its_closed_sessions_history(store: Store) -> None:
    t = f.template()
    store.insert_template(t)
    s = f.session(t.id, status=SessionStatus.CLOSED, closed_at=f.at(5))
    store.insert_session(s)
    assert store.delete_template(t.id)
    assert store.get_session(s.id) == s
    assert [x.id for x in store.list_sessions(template_id=t.id)] == [s.id]
    assert store.count_sessions(t.id, [SessionStatus.CLOSED]) == 1


def test_a_deleted_template_name_can_be_reused(store: Store) -> None:
    t = f.template("reuse")
    store.insert_template(t)
    store.delete_template(t.id)
    store.insert_template(f.template("reuse"))
    assert store.get_template_by_name("reuse") is not None


# --- capabilities ------------------------------------------------------------------------


def test_capabilities_are_returned_in_insertion_order(store: Store) -> None:
    t = f.template()
    store.insert_template(t)
    added = [f.capability(t.id, name) for name in ("zeta", "alpha", "mid")]
    for c in added:
        store.insert_capability(c)
    loaded = store.get_template(t.id)
    assert loaded is not None and loaded.capabilities == added


def test_capabilities_added_later_come_after_the_initial_ones(store: Store) -> None:
    t = full_template()
    store.insert_template(t)
    extra = f.capability(t.id, "aaa")
    store.insert_capability(extra)
    loaded = store.get_template(t.id)
    assert loaded is not None and loaded.capabilities == [*t.capabilities, extra]


def test_duplicate_capability_kind_and_name_is_a_unique_violation(store: Store) -> None:
    t = f.template()
    store.insert_template(t)
    store.insert_capability(f.capability(t.id, "fs", kind="module"))
    with pytest.raises(UniqueViolation) as info:
        store.insert_capability(f.capability(t.id, "fs", kind="module"))
    assert info.value.constraint == "capability"


def test_same_capability_name_with_another_kind_or_template_is_allowed(store: Store) -> None:
    t, u = f.template(), f.template()
    store.insert_template(t)
    store.insert_template(u)
    store.insert_capability(f.capability(t.id, "fs", kind="module"))
    store.insert_capability(f.capability(t.id, "fs", kind="host"))
    store.insert_capability(f.capability(u.id, "fs", kind="module"))
    loaded = store.get_template(t.id)
    assert loaded is not None and len(loaded.capabilities) == 2


def test_duplicate_capability_id_is_a_unique_violation(store: Store) -> None:
    t = f.template()
    store.insert_template(t)
    c = f.capability(t.id, "fs")
    store.insert_capability(c)
    with pytest.raises(UniqueViolation) as info:
        store.insert_capability(f.capability(t.id, "other", id=c.id))
    assert info.value.constraint == "capability_id"


def test_capability_of_an_unknown_template_is_a_foreign_key_violation(store: Store) -> None:
    with pytest.raises(ForeignKeyViolation):
        store.insert_capability(f.capability(f.new_id()))


def test_delete_capability_removes_only_that_capability(store: Store) -> None:
    t = full_template()
    store.insert_template(t)
    first, second = t.capabilities
    assert store.delete_capability(t.id, first.id) is True
    loaded = store.get_template(t.id)
    assert loaded is not None and loaded.capabilities == [second]


def test_delete_capability_needs_the_owning_template(store: Store) -> None:
    t, other = full_template("t"), f.template("other")
    store.insert_template(t)
    store.insert_template(other)
    assert store.delete_capability(other.id, t.capabilities[0].id) is False
    assert store.delete_capability(t.id, f.new_id()) is False
    loaded = store.get_template(t.id)
    assert loaded is not None and len(loaded.capabilities) == 2


# --- startup files -----------------------------------------------------------------------


def test_startup_files_are_ordered_by_order_index_then_insertion(store: Store) -> None:
    t = f.template()
    store.insert_template(t)
    for path, index in (("c.js", 5), ("a.js", 1), ("d.js", 5), ("b.js", 1), ("e.js", 0)):
        store.insert_startup_file(f.startup_file(t.id, path, index))
    loaded = store.get_template(t.id)
    assert loaded is not None
    assert [s.path for s in loaded.startup_files] == ["e.js", "a.js", "b.js", "c.js", "d.js"]


def test_duplicate_startup_file_path_is_a_unique_violation(store: Store) -> None:
    t = f.template()
    store.insert_template(t)
    store.insert_startup_file(f.startup_file(t.id, "init.js"))
    with pytest.raises(UniqueViolation) as info:
        store.insert_startup_file(f.startup_file(t.id, "init.js", 3))
    assert info.value.constraint == "startup_file_path"


def test_startup_file_of_an_unknown_template_is_a_foreign_key_violation(store: Store) -> None:
    with pytest.raises(ForeignKeyViolation):
        store.insert_startup_file(f.startup_file(f.new_id(), "init.js"))


def test_delete_startup_file_removes_only_that_file(store: Store) -> None:
    t = full_template()
    store.insert_template(t)
    b_js, a_js = t.startup_files
    assert store.delete_startup_file(t.id, b_js.id) is True
    assert store.delete_startup_file(t.id, b_js.id) is False
    assert store.delete_startup_file(f.new_id(), a_js.id) is False
    loaded = store.get_template(t.id)
    assert loaded is not None and loaded.startup_files == [a_js]
