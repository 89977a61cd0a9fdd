"""Phase 4 twice: the DbtProjectComponent (workbook/defs/phase4_component) and @dbt_assets.

Both read the same dbt project, so they must yield the same models, the same dbt tests as asset
checks, the same edges (the component's keys sit under phase4_component/, its source under
phase4/) and the same daily partitions; and both fit in one code location.
"""

from __future__ import annotations

import dagster as dg
import pytest

from workbook import definitions
from workbook.course.phases import load_phase
from workbook.platform.paths import REPO_ROOT


@pytest.fixture(scope="module")
def component_defs():
    mp = pytest.MonkeyPatch()
    mp.setenv("WORKBOOK_DEFS", "solutions")  # the component reads the solutions' dbt project
    try:
        yield dg.load_from_defs_folder(path_within_project=REPO_ROOT)
    finally:
        mp.undo()


def _dbt_view(defs: dg.Definitions, prefix: str):
    """{model: (parent names, partitions)}, {(model, check)} and the op of the dbt assets."""
    graph = defs.resolve_asset_graph()
    models = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if key.path[0] == prefix and node.is_materializable and "dbt" in node.kinds:
            parents = sorted(p.path[-1] for p in node.parent_keys)
            models[key.path[-1]] = (parents, node.partitions_def)
    checks = {
        (c.asset_key.path[-1], c.name)
        for c in graph.asset_check_keys
        if c.asset_key.path[0] == prefix
    }
    return models, checks


def test_the_component_yields_the_same_models_checks_edges_and_partitions(component_defs):
    dbt_assets = load_phase(4, "solutions").defs
    models, checks = _dbt_view(component_defs, "phase4_component")
    expected_models, expected_checks = _dbt_view(dbt_assets, "phase4")
    assert set(models) == set(expected_models) == {"stg_weather_readings", "daily_weather_summary"}
    assert models == expected_models  # parents and partitions, model by model
    assert checks == expected_checks and len(checks) >= 10


def test_both_fit_in_one_location_and_the_component_hangs_below_phase4s_landing(component_defs):
    merged = dg.Definitions.merge(load_phase(4, "solutions").defs, component_defs)
    dg.Definitions.validate_loadable(merged)
    graph = merged.resolve_asset_graph()
    staging = graph.get(dg.AssetKey(["phase4_component", "stg_weather_readings"]))
    assert staging.parent_keys == {dg.AssetKey(["phase4", "raw_weather_readings"])}
    assert graph.get(dg.AssetKey(["phase4", "raw_weather_readings"])).is_materializable
    summary = graph.get(dg.AssetKey(["phase4_component", "daily_weather_summary"]))
    assert summary.backfill_policy == dg.BackfillPolicy.single_run()


def test_the_setting_adds_the_component_to_the_code_location(monkeypatch):
    monkeypatch.setenv("WORKBOOK_DEFS", "solutions")
    monkeypatch.setenv("WORKBOOK_DBT_COMPONENT", "1")
    keys = {
        k.to_user_string() for k in definitions.defs().resolve_asset_graph().get_all_asset_keys()
    }
    assert {"phase4/daily_weather_summary", "phase4_component/daily_weather_summary"} <= keys
    assert not any(k.endswith("load_error") for k in keys), keys


def test_the_component_materializes_a_day_with_its_checks(component_defs):
    """One partition through the component: Phase 4's landing asset, then both dbt models,
    every dbt test passing as an asset check."""
    from workbook.platform.resources import RESOURCES

    landing = load_phase(4, "solutions").raw_weather_readings
    assets = [landing, *(a for a in component_defs.assets if isinstance(a, dg.AssetsDefinition))]
    result = dg.materialize(assets, partition_key="2024-01-14", resources=RESOURCES)
    assert result.success
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {
        "phase4/raw_weather_readings",
        "phase4_component/stg_weather_readings",
        "phase4_component/daily_weather_summary",
    }
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(e.passed for e in evaluations)
    assert len(evaluations) == len(_dbt_view(component_defs, "phase4_component")[1])
