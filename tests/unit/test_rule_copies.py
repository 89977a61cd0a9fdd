"""Every copy of a validation rule agrees with its single definition, workbook/platform/rules.py.

The ranges live once, in rules.py. dbt reads them as project vars (dbt_project.yml, used by
the ``plausible()`` macro and the ``plausible_range`` test), Phase 5's summary SQL receives them
as query parameters, and Phase 2's lesson states them in words. The grader's oracle stays
independent on purpose and is not checked here.
"""

from __future__ import annotations

import re

import pytest
import yaml

from workbook.course.phases import load_phase
from workbook.platform import rules
from workbook.platform.paths import AIRFLOW_DAGS, DBT_PROJECT, SOLUTIONS

RANGES = {
    "temperature_c": rules.TEMPERATURE_C,
    "humidity_pct": rules.HUMIDITY_PCT,
    "wind_speed_kmh": rules.WIND_SPEED_KMH,
    "pressure_hpa": rules.PRESSURE_HPA,
    "precipitation_mm": rules.PRECIPITATION_MM,
}
# A numeric range written into SQL by hand: `between 850 and 1100`.
LITERAL_RANGE = re.compile(r"between\s+-?\d+(\.\d+)?\s+and\s+-?\d+", re.I)


def test_dbt_vars_are_the_rules_ranges():
    project = yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text())
    ranges = project["vars"]["plausible_ranges"]
    assert {k: tuple(map(float, v)) for k, v in ranges.items()} == RANGES


def test_dbt_models_use_the_shared_ranges_not_literals():
    staging = (DBT_PROJECT / "models" / "staging" / "stg_weather_readings.sql").read_text()
    assert not LITERAL_RANGE.search(staging), "a range written into staging by hand"
    for column in ("humidity_pct", "wind_speed_kmh", "pressure_hpa", "temperature_c"):
        assert re.search(rf"plausible\([^)]*'{column}'\)", staging), column
    for schema in DBT_PROJECT.glob("models/*/schema.yml"):
        text = schema.read_text()
        assert "min_value: -90" not in text and "max_value: 60" not in text, schema


@pytest.mark.parametrize("phase", [5])
def test_phase5_summary_takes_the_ranges_as_parameters(phase):
    module = load_phase(phase, "solutions")
    assert not LITERAL_RANGE.search(module.SUMMARY_SQL)
    assert module.TEMPERATURE_C is rules.TEMPERATURE_C


def test_phase2_lesson_states_the_rules_ranges():
    """The lesson's table of rules ("outside -90..60") says what rules.py enforces."""
    text = (SOLUTIONS / "phase2_asset_graph.py").read_text()
    stated = {
        reason: (float(low), float(high))
        for reason, low, high in re.findall(
            r"^\s+(\w+_out_of_range)\s.*?outside (-?[\d.]+)\.\.(-?[\d.]+)", text, re.M
        )
    }
    assert stated == {
        "temperature_out_of_range": rules.TEMPERATURE_C,
        "humidity_out_of_range": rules.HUMIDITY_PCT,
        "wind_out_of_range": rules.WIND_SPEED_KMH,
        "pressure_out_of_range": rules.PRESSURE_HPA,
        "precipitation_out_of_range": rules.PRECIPITATION_MM,
    }


def test_phase2_constants_are_the_rules_constants():
    """Phase 2 keeps its own copy of the constants (rules.py holds the reference functions, which
    must not be importable as the answer): the copy must say what rules.py enforces."""
    module = load_phase(2, "solutions")
    for name in ("REQUIRED_FIELDS", "TEMPERATURE_C", "HUMIDITY_PCT", "WIND_SPEED_KMH",
                 "PRESSURE_HPA", "PRECIPITATION_MM", "REASONS", "VALIDATED_COLUMNS"):  # fmt: skip
        assert tuple(getattr(module, name)) == tuple(getattr(rules, name)), name
    assert "workbook.platform import rules" not in (SOLUTIONS / "phase2_asset_graph.py").read_text()


def test_the_airflow_baseline_applies_the_same_rules():
    dag = (AIRFLOW_DAGS / "weather_dag.py").read_text()
    assert "from workbook.platform.rules import validate_readings" in dag
    assert "from workbook.platform.rules import aggregate_city_days" in dag
    assert not LITERAL_RANGE.search(dag)
