"""Grader for Phase 1: each test is one requirement (titles and hints: requirements.toml).

Expected values are computed independently, in SQL, from the seeded source table.
"""

from __future__ import annotations

import broken_phase1 as broken
import dagster as dg
import pytest

from workbook.course.explain import explain_failure
from workbook.grading import learner_tests
from workbook.platform import db
from workbook.platform.resources import RESOURCES

CLEANED = dg.AssetKey(["phase1", "cleaned_weather_data"])

EXPECTED_SQL = """
with usable as (
    select city, observed_at,
           case when temperature_unit = 'F' then (temperature - 32) * 5 / 9
                else temperature end as celsius
    from source.weather_readings
    where temperature is not null
)
select city, observed_at, round(celsius::numeric, 1)::float as temperature_c, count(*) as copies
from usable
where celsius between -90 and 60
group by 1, 2, 3
"""


@pytest.fixture(scope="module")
def phase(phase_module):
    return phase_module(1)


@pytest.fixture(scope="module")
def expected():
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute(EXPECTED_SQL)
        rows = cur.fetchall()
        cur.execute("select count(*) from source.weather_readings")
        raw = cur.fetchone()[0]
    temps = {(city, ts): t for city, ts, t, _ in rows}
    usable = sum(copies for *_, copies in rows)
    return {"temps": temps, "raw": raw, "usable": usable}


@pytest.fixture(scope="module")
def run(phase):
    """Materialize both assets once; the requirements below inspect the outcome."""
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("drop schema if exists phase1 cascade")  # no stale table can pass
    try:
        assets = [phase.raw_weather_data, phase.cleaned_weather_data]
    except AttributeError as exc:
        pytest.fail(f"phase1_basic_assets.py: {exc}", pytrace=False)
    return dg.materialize(assets, resources=RESOURCES, raise_on_error=False)


@pytest.fixture(scope="module")
def table(run):
    """The rows cleaned_weather_data stored, or a failure that says why there are none."""
    if not run.success:
        pytest.fail(explain_failure(run, "cleaned_weather_data"), pytrace=False)
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("select * from phase1.cleaned_weather_data")
        columns = [d.name for d in cur.description]
        return [dict(zip(columns, r)) for r in cur.fetchall()]


def _example(rows, n=3) -> str:
    return "; ".join(f"{r['city']} {r['observed_at']:%Y-%m-%d %H:%M}" for r in rows[:n])


def test_depends_on_raw_weather_data(phase):
    deps = {k.path[-1] for k in phase.cleaned_weather_data.dependency_keys}
    assert "raw_weather_data" in deps, (
        "cleaned_weather_data does not depend on raw_weather_data (its upstream assets: "
        f"{sorted(deps) or 'none'}). TODO 1: add a parameter named raw_weather_data."
    )


def test_drops_unusable_readings(table, expected):
    missing = [r for r in table if r.get("temperature_c") is None]
    assert not missing, f"{len(missing)} rows have no temperature_c, e.g. {_example(missing)}"
    glitches = [r for r in table if not -90 <= r["temperature_c"] <= 60]
    assert not glitches, (
        f"{len(glitches)} sensor glitches were kept (outside -90..60 °C), e.g. "
        f"{_example(glitches)} at {glitches[0]['temperature_c']}"
    )
    kept = {(r["city"], r["observed_at"]) for r in table}
    lost = sorted(set(expected["temps"]) - kept)
    assert not lost, (
        f"{len(lost)} usable readings were dropped, e.g. {lost[0][0]} {lost[0][1]:%Y-%m-%d %H:%M}."
        " Convert to °C before checking the range: 70 °F is a fine 21.1 °C."
    )


def test_temperatures_in_celsius(table, expected):
    assert table and "temperature_c" in table[0], "there is no temperature_c column"
    leftover = {"temperature", "temperature_unit"} & set(table[0])
    assert not leftover, f"drop the column(s) {sorted(leftover)} once temperature_c exists"
    wrong = [
        (r, expected["temps"][(r["city"], r["observed_at"])])
        for r in table
        if (r["city"], r["observed_at"]) in expected["temps"]
        and abs(r["temperature_c"] - expected["temps"][(r["city"], r["observed_at"])]) > 0.051
    ]
    assert not wrong, (
        f"{len(wrong)} temperatures are not the reading in °C rounded to 1 decimal, e.g. "
        f"{_example([w[0] for w in wrong], 1)}: got {wrong[0][0]['temperature_c']}, "
        f"expected {wrong[0][1]}"
    )


def test_one_row_per_city_hour(table):
    keys = [(r["city"], r["observed_at"]) for r in table]
    extra = len(keys) - len(set(keys))
    assert extra == 0, f"{extra} duplicate readings were kept: keep one row per (city, observed_at)"


def test_reports_metadata(run, table, expected):
    events = run.asset_materializations_for_node(phase_node(run))
    meta = events[-1].metadata if events else {}
    want = {
        "row_count": len(table),
        "dropped_unusable": expected["raw"] - expected["usable"],
        "dropped_duplicates": expected["usable"] - len(expected["temps"]),
    }
    for name, value in want.items():
        assert name in meta, f"metadata {name!r} is missing (found: {sorted(meta) or 'none'})"
        got = meta[name].value
        assert got == value, f"metadata {name!r} is {got}, expected {value}"
    assert "preview" in meta, "metadata 'preview' is missing: add a Markdown table of a few rows"
    assert isinstance(meta["preview"], dg.MarkdownMetadataValue), "preview must be MetadataValue.md"


def phase_node(run) -> str:
    return next(
        node.name for node in run.job_def.graph.nodes if node.name.endswith("cleaned_weather_data")
    )


def test_tests_catch_broken_versions(phase, record_property):
    learner_tests.grade(phase, 1, broken, "TODO 6", record_property)
