"""Settings declared once: ``serve``'s options, ``ServeSettings`` and docs/configuration.md all
come from :data:`vmsystem.settings.SETTINGS`."""

from __future__ import annotations

import dataclasses
import inspect

from typer.testing import CliRunner

from vmsystem.cli.main import app
from vmsystem.cli.serve import serve
from vmsystem.settings import SETTINGS, ServeSettings

#: The CLI's global options (``vm-system --log-level debug serve``), not options of serve.
GLOBAL_ONLY = {"log_level"}


def test_serve_settings_has_one_field_per_declared_setting_and_no_defaults_of_its_own() -> None:
    fields = dataclasses.fields(ServeSettings)
    assert [f.name for f in fields] == [s.name for s in SETTINGS]
    assert all(f.default is dataclasses.MISSING for f in fields)


def test_resolving_nothing_gives_every_declared_default() -> None:
    resolved = ServeSettings.resolve({}, environ={})
    assert {s.name: getattr(resolved, s.name) for s in SETTINGS} == {
        s.name: s.default for s in SETTINGS
    }


def test_serve_has_one_option_per_setting_generated_from_the_declaration() -> None:
    names = list(inspect.signature(serve).parameters)
    assert names == ["ctx", *(s.name for s in SETTINGS if s.name not in GLOBAL_ONLY)]


def test_serve_help_shows_every_settings_flag_environment_variable_and_help() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"], terminal_width=400)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for s in SETTINGS:
        if s.name in GLOBAL_ONLY:
            continue
        assert s.flag in text and f"[env: {s.env}]" in text, s.name
        assert " ".join(s.help.split()) in text, s.name


def test_a_flag_and_an_environment_variable_reach_the_daemons_settings() -> None:
    resolved = ServeSettings.resolve(
        {"executor_threads": 12, "cors_origins": ("http://a",)},
        environ={"VMSYSTEM_ACCESS_LOG": "true", "VMSYSTEM_EXECUTOR_THREADS": "99"},
    )
    assert resolved.executor_threads == 12  # the flag wins over the environment
    assert resolved.access_log is True and resolved.cors_origins == ("http://a",)


def test_a_flag_given_as_zero_is_a_value_not_a_missing_flag() -> None:
    resolved = ServeSettings.resolve(
        {"host_memory_budget_mb": 0, "host_memory_mb": 0},
        environ={"VMSYSTEM_HOST_MEMORY_BUDGET_MB": "2048"},
    )
    assert (resolved.host_memory_budget_mb, resolved.host_memory_mb) == (0, 0)
    assert ServeSettings.resolve({}, environ={}).host_memory_budget_mb == 3072
    off = ServeSettings.resolve({"access_log": False}, environ={"VMSYSTEM_ACCESS_LOG": "1"})
    assert off.access_log is True  # an unset boolean flag arrives as False: the env var counts
