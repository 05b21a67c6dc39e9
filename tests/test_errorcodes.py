"""The error codes are declared once (``vmsystem/errorcodes.py``): the core's and the SDK's
error classes are generated from that table, and the API's statuses read from it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from vmsystem import client as sdk
from vmsystem.api.errors import STATUS_BY_CODE
from vmsystem.client import errors as client_errors
from vmsystem.core import errors as core_errors
from vmsystem.errorcodes import ERROR_CODES, ErrorCode

ROOT = Path(__file__).resolve().parent.parent


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_errors", ROOT / "scripts" / "gen_errors.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_core_errors_module_is_the_one_generated_from_the_table() -> None:
    gen = _generator()
    current = (ROOT / "vmsystem" / "core" / "errors.py").read_text(encoding="utf-8")
    assert current == gen.render_core(), "stale: run python scripts/gen_errors.py"


def test_the_sdk_errors_module_is_the_one_generated_from_the_table() -> None:
    gen = _generator()
    current = (ROOT / "vmsystem" / "client" / "errors.py").read_text(encoding="utf-8")
    assert current == gen.render_client(), "stale: run python scripts/gen_errors.py"


def test_the_check_mode_reports_a_stale_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    gen = _generator()
    core = tmp_path / "vmsystem" / "core" / "errors.py"
    client = tmp_path / "vmsystem" / "client" / "errors.py"
    core.parent.mkdir(parents=True)
    client.parent.mkdir(parents=True)
    core.write_text(gen.render_core())
    client.write_text(gen.render_client().replace('"SESSION_BUSY"', '"SESSION_BUZY"'))
    monkeypatch.setattr(gen, "ROOT", tmp_path)
    monkeypatch.setattr(gen, "CORE", core)
    monkeypatch.setattr(gen, "CLIENT", client)
    assert gen.main(["--check"]) == 1
    assert "vmsystem/client/errors.py out of date" in capsys.readouterr().err
    assert gen.main([]) == 0
    assert gen.main(["--check"]) == 0
    assert client.read_text() == gen.render_client()


def _parent(row: ErrorCode, root: str) -> str:
    return row.parent or root


@pytest.mark.parametrize("row", ERROR_CODES, ids=lambda row: row.code)
def test_each_code_is_one_class_in_the_core_and_in_the_sdk(row: ErrorCode) -> None:
    core = getattr(core_errors, row.name)
    assert core.code == row.code
    assert core.default_message == row.message
    assert issubclass(core, getattr(core_errors, _parent(row, "VmError")))
    assert core().to_dict() == {"code": row.code, "message": row.message}

    sdk_class = getattr(sdk, row.name)  # every class is importable from vmsystem.client
    assert sdk_class is getattr(client_errors, row.name)
    assert issubclass(sdk_class, getattr(client_errors, _parent(row, "APIError")))
    if row.grouping:
        assert sdk_class.error_code is None
        assert row.code not in STATUS_BY_CODE
    else:
        assert sdk_class.error_code == row.code
        assert client_errors.ERRORS_BY_CODE[row.code] is sdk_class
        assert STATUS_BY_CODE[row.code] == row.status
        error = client_errors.api_error(row.status, row.code, "m", {"execution_id": "e-1"})
        assert type(error) is sdk_class


def test_the_table_names_every_error_class_once() -> None:
    names = [row.name for row in ERROR_CODES]
    codes = [row.code for row in ERROR_CODES]
    assert len(set(names)) == len(names) and len(set(codes)) == len(codes)
    defined = {
        name
        for name, value in vars(core_errors).items()
        if isinstance(value, type) and issubclass(value, core_errors.VmError)
    }
    assert defined - set(names) == {"VmError", "CarriesExecution"}
    # a parent comes before its children, and is a row of the table
    seen: set[str] = set()
    for row in ERROR_CODES:
        assert row.parent is None or row.parent in seen, row.name
        seen.add(row.name)
    assert set(client_errors.ERRORS_BY_CODE) == set(STATUS_BY_CODE)


def test_behaviour_of_the_hand_written_bases_reaches_the_generated_classes() -> None:
    stopped = core_errors.OutputLimitExceeded("too much", execution=None, limit="max_events")
    assert stopped.execution is None and stopped.details == {"limit": "max_events"}
    assert stopped.to_dict()["code"] == "OUTPUT_LIMIT_EXCEEDED"
    busy = sdk.SessionBusy(409, "SESSION_BUSY", "busy", {"execution_id": "e-1"})
    assert busy.execution_id == "e-1"
    assert sdk.OutputLimitExceeded(422, "OUTPUT_LIMIT_EXCEEDED", "x", {}).execution_id is None
