"""The UI's one code location: a broken phase shows its error and hides no other phase."""

from __future__ import annotations

import shutil

import dagster as dg
import pytest

from workbook import definitions
from workbook.course.phases import PHASES
from workbook.platform.paths import SOLUTIONS


@pytest.fixture
def package(tmp_path):
    """A throwaway exercises directory holding a copy of every reference phase, to break."""
    for name in PHASES.values():
        shutil.copyfile(SOLUTIONS / f"{name}.py", tmp_path / f"{name}.py")
    return tmp_path


def _keys(defs: dg.Definitions) -> set[str]:
    return {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}


def test_every_phase_loads_and_keys_are_unique_across_phases():
    keys = _keys(definitions.build("solutions"))
    assert {"phase1/raw_weather_data", "phase1/cleaned_weather_data"} <= keys
    assert not any(k.endswith("load_error") for k in keys), keys
    assert len({k.split("/")[0] for k in keys if "/" in k}) >= 1


def test_a_syntax_error_hides_no_other_phase_and_is_shown(package):
    (package / "phase1_basic_assets.py").write_text("def broken(:\n")
    defs = definitions.build("exercises", package)
    keys = _keys(defs)
    assert "phase1/load_error" in keys
    assert not any(k.startswith("phase1/") and k != "phase1/load_error" for k in keys)
    error = (
        defs.resolve_assets_def(dg.AssetKey(["phase1", "load_error"])).get_asset_spec().description
    )
    assert "phase1_basic_assets.py" in error and "line 1" in error and "def broken(:" in error


def test_two_phases_with_the_same_asset_key_do_not_break_the_first(package):
    clash = (package / "phase1_basic_assets.py").read_text()
    (package / "phase5_automation.py").write_text(clash)  # phase 5 redefines phase 1's keys
    keys = _keys(definitions.build("exercises", package))
    assert {"phase1/cleaned_weather_data", "phase5/load_error"} <= keys


def test_a_malformed_database_url_still_loads_every_phase_and_shows_the_error(monkeypatch):
    monkeypatch.setenv("WORKBOOK_DATABASE_URL", "postgresql+psycopg2://u:pw-secret@host:1/x")
    defs = definitions.build("solutions")
    keys = _keys(defs)
    assert {"workbook/database_error", "phase1/cleaned_weather_data"} <= keys
    error = (
        defs.resolve_assets_def(dg.AssetKey(["workbook", "database_error"]))
        .get_asset_spec()
        .description
    )
    assert "WORKBOOK_DATABASE_URL" in error and "pw-secret" not in error
