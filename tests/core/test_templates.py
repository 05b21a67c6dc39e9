"""TemplateService: names, engines, settings merge, nested resources, delete rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from vmsystem.core import VmSystem
from vmsystem.core.errors import (
    Conflict,
    EngineNotSupported,
    InvalidPath,
    LibraryNotFound,
    MemoryBudgetExceeded,
    ModuleNotAllowed,
    StartupModeUnsupported,
    TemplateInUse,
    TemplateNotFound,
    ValidationError,
)
from vmsystem.core.settings import DEFAULT_SETTINGS


def test_create_uses_v8_and_default_settings(vm: VmSystem) -> None:
    template = vm.templates.create("defaults")
    assert template.engine == "v8"
    assert template.settings.to_dict() == DEFAULT_SETTINGS
    assert template.modules == [] and template.libraries == []


def test_legacy_goja_engine_is_stored_as_v8(vm: VmSystem) -> None:
    assert vm.templates.create("legacy", "goja").engine == "v8"


def test_unknown_engine_is_refused(vm: VmSystem) -> None:
    with pytest.raises(EngineNotSupported):
        vm.templates.create("other", "spidermonkey")


def test_duplicate_name_is_a_conflict(vm: VmSystem) -> None:
    vm.templates.create("same")
    with pytest.raises(Conflict):
        vm.templates.create("same")


def test_blank_name_is_a_validation_error(vm: VmSystem) -> None:
    with pytest.raises(ValidationError):
        vm.templates.create("   ")


def test_patch_merges_settings_key_by_key(vm: VmSystem) -> None:
    template = vm.templates.create("patchable")
    updated = vm.templates.update(template.id, settings={"limits": {"wall_ms": 200}})
    assert updated.settings.limits.wall_ms == 200
    assert updated.settings.limits.cpu_ms == DEFAULT_SETTINGS["limits"]["cpu_ms"]
    assert updated.settings.to_dict()["runtime"] == DEFAULT_SETTINGS["runtime"]


@pytest.mark.parametrize(
    "patch",
    [
        {"limits": {"wall_ms": 0}},
        {"limits": {"nope": 1}},
        {"bogus": {}},
        {"runtime": {"console": 1}},
    ],
)
def test_patch_rejects_invalid_settings(vm: VmSystem, patch: dict[str, object]) -> None:
    template = vm.templates.create(f"bad-{len(str(patch))}")
    with pytest.raises(ValidationError):
        vm.templates.update(template.id, settings=patch)


def test_modules_are_normalised_validated_and_idempotent(vm: VmSystem) -> None:
    template = vm.templates.create("mods")
    assert vm.templates.add_module(template.id, " FS ")[1] == "fs"
    vm.templates.add_module(template.id, "fs")
    assert vm.templates.get(template.id).modules == ["fs"]
    for bad in ("json", "math", "not-a-real-module", ""):
        with pytest.raises(ModuleNotAllowed):
            vm.templates.add_module(template.id, bad)
    vm.templates.remove_module(template.id, "fs")
    assert vm.templates.get(template.id).modules == []


def test_unknown_library_is_refused_and_catalog_names_accepted(vm: VmSystem) -> None:
    template = vm.templates.create("libs")
    for spec in ("lodash", "lodash@4.17.21", "lodash-4.17.21"):
        vm.templates.add_library(template.id, spec)
    assert vm.templates.get(template.id).libraries == ["lodash", "lodash@4.17.21", "lodash-4.17.21"]
    for bad in ("left-pad", "../../etc/passwd", "lodash@1.0.0"):
        with pytest.raises(LibraryNotFound):
            vm.templates.add_library(template.id, bad)


def test_startup_files_are_cleaned_and_modes_checked(vm: VmSystem) -> None:
    template = vm.templates.create("startup")
    added = vm.templates.add_startup_file(
        template.id, "runtime/../runtime/startup.js", order_index=10
    )
    assert added.path == "runtime/startup.js"
    for bad in ("/abs.js", "../up.js", "", "."):
        with pytest.raises(InvalidPath):
            vm.templates.add_startup_file(template.id, bad)
    with pytest.raises(StartupModeUnsupported):
        vm.templates.add_startup_file(template.id, "other.js", mode="import")
    with pytest.raises(Conflict):
        vm.templates.add_startup_file(template.id, "runtime/startup.js")
    vm.templates.remove_startup_file(template.id, added.id)
    assert vm.templates.get(template.id).startup_files == []


def test_delete_refuses_while_sessions_are_live(vm: VmSystem, worktree: Path) -> None:
    template = vm.templates.create("in-use")
    session = vm.sessions.create(template.id, str(worktree))
    with pytest.raises(TemplateInUse):
        vm.templates.delete(template.id)
    vm.sessions.close(session.id)
    vm.templates.delete(template.id)
    with pytest.raises(TemplateNotFound):
        vm.templates.get(template.id)
    assert vm.sessions.get(session.id).status.value == "closed"


def test_sessions_keep_the_settings_they_started_with(vm: VmSystem, worktree: Path) -> None:
    template = vm.templates.create("snapshot")
    session = vm.sessions.create(template.id, str(worktree))
    vm.templates.update(template.id, settings={"limits": {"wall_ms": 100}})
    run = vm.executions.repl(session.id, "const t = Date.now(); while (Date.now() - t < 300) {}; 1")
    assert run.status.value == "ok"
    assert session.template_snapshot.settings.limits.wall_ms == 5000


def test_a_mem_mb_above_one_hosts_budget_is_refused_for_templates_and_sessions(
    vm: VmSystem, worktree: Path
) -> None:
    budget = vm.hosts.memory_budget_mb
    assert budget == 3072
    template = vm.templates.create("big")
    with pytest.raises(MemoryBudgetExceeded, match="3072 MiB") as refused:
        vm.templates.update(template.id, settings={"limits": {"mem_mb": budget + 1}})
    assert refused.value.details == {"mem_mb": budget + 1, "memory_budget_mb": budget}
    assert vm.templates.get(template.id).settings.limits.mem_mb == 128
    # A template stored under a larger budget (or none) is refused when a session starts.
    vm.templates.memory_budget_mb = 0
    vm.templates.update(template.id, settings={"limits": {"mem_mb": 4096}})
    vm.templates.memory_budget_mb = budget
    before = len(vm.sessions.list())
    with pytest.raises(MemoryBudgetExceeded):
        vm.sessions.create(template.id, str(worktree))
    assert len(vm.sessions.list()) == before
