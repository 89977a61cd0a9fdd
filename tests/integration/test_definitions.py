"""The UI's one code location: a broken phase shows its error and hides no other phase."""

from __future__ import annotations

import shutil

import dagster as dg
import pytest
from dagster.components.definitions import LazyDefinitions

from workbook import definitions
from workbook.course.phases import PHASES, PhaseLoadError, selected_target
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


def test_strict_mode_fails_the_location_on_a_broken_phase(package, monkeypatch):
    (package / "phase3_partitions.py").write_text("def broken(:\n")
    monkeypatch.setenv("WORKBOOK_STRICT", "1")
    with pytest.raises(PhaseLoadError, match=r"phase3_partitions.py, line 1"):
        definitions.build("exercises", package)


def test_dg_loads_exactly_one_definitions_function_and_workbook_defs_picks_the_target(
    monkeypatch,
):
    lazy = [v for v in vars(definitions).values() if isinstance(v, LazyDefinitions)]
    assert lazy == [definitions.defs]  # dg passes no attribute: a second one is refused
    monkeypatch.setenv("WORKBOOK_DEFS", "solutions")
    assert selected_target() == "solutions"
    monkeypatch.setenv("WORKBOOK_DEFS", "bogus")
    with pytest.raises(ValueError, match="WORKBOOK_DEFS must be exercises or solutions"):
        selected_target()
    monkeypatch.delenv("WORKBOOK_DEFS")
    assert selected_target() == "exercises"


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


def test_ui_runs_execute_in_process_unless_a_phase_sets_its_own_executor(package):
    """A process per step cost ten times the work of the workbook's small steps (Phase 3)."""
    assert definitions.build("exercises", package).executor is dg.in_process_executor
    with (package / "phase2_asset_graph.py").open("a") as f:
        f.write(
            "\ndefs = dg.Definitions.merge(defs, dg.Definitions(executor=dg.multiprocess_executor))\n"
        )
    assert definitions.build("exercises", package).executor is dg.multiprocess_executor
