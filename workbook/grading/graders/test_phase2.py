"""Grader for Phase 2: each test is one requirement (titles and hints: requirements.toml).

The pure functions are called with hand-made rows that pin each rule down; the assets are
materialized on the seeded dataset and compared with values computed independently in SQL
(``grading_oracle.py``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import broken_phase2 as broken
import dagster as dg
import pytest
from grading_oracle import ALL_TIME, REASONS, VALID_ROWS_SQL, aggregates_sql, expected, query

from workbook.course.explain import explain_failure
from workbook.course.phases import given
from workbook.grading import learner_tests
from workbook.platform.resources import RESOURCES

VALIDATED_COLUMNS = {
    "station_id", "city", "country", "observed_at", "temperature_c", "humidity_pct",
    "wind_speed_kmh", "pressure_hpa", "precipitation_mm", "condition",
}  # fmt: skip
AGGREGATE_COLUMNS = {
    "city", "day", "reading_count", "min_temperature_c", "max_temperature_c",
    "mean_temperature_c", "total_precipitation_mm",
}  # fmt: skip

SEED_VALIDATED_SQL = f"""
create schema if not exists phase2;
drop table if exists phase2.validated_readings;
create table phase2.validated_readings as {VALID_ROWS_SQL};
"""

AGGREGATES_SQL = aggregates_sql("phase2.validated_readings")


@pytest.fixture(scope="module")
def phase(phase_module):
    return phase_module(2)


# --- TODO 1: validate_readings ------------------------------------------------------------------

T0 = datetime(2024, 1, 5, 0, 0, tzinfo=UTC)


def _reading(hour: int, **changes) -> dict:
    row = {
        "station_id": "XX-0001", "station_name": "Test Field", "city": "Testville",
        "country": "XX", "observed_at": T0 + timedelta(hours=hour), "temperature": 12.34,
        "temperature_unit": "C", "humidity_pct": 60.0, "wind_speed_kmh": 10.0,
        "pressure_hpa": 1010.0, "precipitation_mm": 0.0, "condition": "clear",
    }  # fmt: skip
    row.update(changes)
    return row


# (what the reading is, the reading, the reason it is rejected for, or None if it is valid)
CASES = [
    ("a plain valid reading", {}, None),
    ("70 °F (21.1 °C)", {"temperature": 70.0, "temperature_unit": "F"}, None),
    ("131 °F (55 °C: convert before checking the range)", {"temperature": 131.0, "temperature_unit": "F"}, None),
    ("-130 °F (exactly -90 °C: the bounds are inclusive)", {"temperature": -130.0, "temperature_unit": "F"}, None),
    ("60.0 °C (the upper bound is inclusive)", {"temperature": 60.0}, None),
    ("60.1 °C", {"temperature": 60.1}, "temperature_out_of_range"),
    ("150 °F (65.6 °C)", {"temperature": 150.0, "temperature_unit": "F"}, "temperature_out_of_range"),
    ("-999.9 °C", {"temperature": -999.9}, "temperature_out_of_range"),
    ("a missing temperature", {"temperature": None}, "missing_field"),
    ("a missing temperature_unit", {"temperature_unit": None}, "missing_field"),
    ("a missing pressure_hpa", {"pressure_hpa": None}, "missing_field"),
    ("a missing precipitation_mm", {"precipitation_mm": None}, "missing_field"),
    ("a missing station_id", {"station_id": None}, "missing_field"),
    ("a missing humidity_pct (optional)", {"humidity_pct": None}, None),
    ("a missing wind_speed_kmh (optional)", {"wind_speed_kmh": None}, None),
    ("temperature_unit 'K'", {"temperature_unit": "K"}, "unknown_unit"),
    ("humidity 100.0 %", {"humidity_pct": 100.0}, None),
    ("humidity 100.1 %", {"humidity_pct": 100.1}, "humidity_out_of_range"),
    ("humidity -0.1 %", {"humidity_pct": -0.1}, "humidity_out_of_range"),
    ("wind 400.0 km/h", {"wind_speed_kmh": 400.0}, None),
    ("wind 999 km/h", {"wind_speed_kmh": 999.0}, "wind_out_of_range"),
    ("wind -1 km/h", {"wind_speed_kmh": -1.0}, "wind_out_of_range"),
    ("pressure 870 hPa", {"pressure_hpa": 870.0}, None),
    ("pressure 1085 hPa", {"pressure_hpa": 1085.0}, None),
    ("pressure 0 hPa", {"pressure_hpa": 0.0}, "pressure_out_of_range"),
    ("pressure 1085.1 hPa", {"pressure_hpa": 1085.1}, "pressure_out_of_range"),
    ("precipitation 300 mm", {"precipitation_mm": 300.0}, None),
    ("precipitation -0.1 mm", {"precipitation_mm": -0.1}, "precipitation_out_of_range"),
    ("precipitation 300.1 mm", {"precipitation_mm": 300.1}, "precipitation_out_of_range"),
    ("999.9 °C and 180 % humidity (first rule wins)", {"temperature": 999.9, "humidity_pct": 180.0}, "temperature_out_of_range"),
    ("180 % humidity and 0 hPa (first rule wins)", {"humidity_pct": 180.0, "pressure_hpa": 0.0}, "humidity_out_of_range"),
    ("999 km/h wind and 0 hPa (first rule wins)", {"wind_speed_kmh": 999.0, "pressure_hpa": 0.0}, "wind_out_of_range"),
    ("no temperature and 180 % humidity (first rule wins)", {"temperature": None, "humidity_pct": 180.0}, "missing_field"),
    ("unit 'K' at 999.9 (first rule wins)", {"temperature_unit": "K", "temperature": 999.9}, "unknown_unit"),
]  # fmt: skip


def _validate(fn, rows):
    result = fn(rows)
    assert isinstance(result, tuple) and len(result) == 2, (
        f"validate_readings must return (valid_rows, rejected_by_reason), got {type(result).__name__}"
    )
    valid, rejected = result
    assert isinstance(rejected, dict), "the second value must be a dict {reason: count}"
    unknown = {k for k, v in rejected.items() if v and k not in REASONS}
    assert not unknown, f"unknown rejection reason(s) {sorted(unknown)}; use {list(REASONS)}"
    return list(valid), {k: v for k, v in rejected.items() if v}


def test_validate_readings_rules(phase):
    fn = given(phase, "validate_readings")
    for label, changes, reason in CASES:
        valid, rejected = _validate(fn, [_reading(0, **changes)])
        if reason is None:
            assert len(valid) == 1 and not rejected, (
                f"{label} is valid, but validate_readings rejected it as {rejected or 'nothing'}"
            )
        else:
            assert not valid and rejected == {reason: 1}, (
                f"{label} must be rejected once as {reason!r}; got {rejected or 'kept as valid'}"
            )
    valid, _ = _validate(fn, [_reading(0, temperature=131.0, temperature_unit="F")])
    row = valid[0]
    assert set(row) == VALIDATED_COLUMNS, (
        f"a valid row has the columns {sorted(VALIDATED_COLUMNS)}; got {sorted(row)}"
    )
    assert row["temperature_c"] == 55.0, (
        f"131 °F must give temperature_c 55.0, got {row['temperature_c']}"
    )
    valid, _ = _validate(fn, [_reading(0)])
    assert valid[0]["temperature_c"] == 12.3, (
        f"temperature_c is rounded to 1 decimal: 12.34 °C must give 12.3, got {valid[0]['temperature_c']}"
    )
    # Duplicates: only an accepted (city, observed_at) makes a later copy a duplicate.
    base, glitch = _reading(1), _reading(2, temperature=999.9)
    valid, rejected = _validate(fn, [base, dict(base), glitch, dict(glitch), _reading(2)])
    assert rejected == {"duplicate": 1, "temperature_out_of_range": 2}, (
        "rows: a valid reading, its copy, a 999.9 °C glitch, its copy, then a valid reading with "
        "the glitch's city and hour. Expected {'duplicate': 1, 'temperature_out_of_range': 2} "
        f"(a copy of a rejected row fails its own rule first), got {rejected}"
    )
    assert len(valid) == 2, f"2 of those 5 rows are valid, got {len(valid)}"


# --- TODO 2: the validated_readings asset on the seeded data -------------------------------------


@pytest.fixture(scope="module")
def oracle():
    return expected()


@pytest.fixture(scope="module")
def validated_run(phase, instance):
    query("drop schema if exists phase2 cascade")  # no stale table can pass
    assets = [given(phase, "raw_readings"), given(phase, "validated_readings")]
    return dg.materialize(assets, resources=RESOURCES, raise_on_error=False, instance=instance)


def test_validated_readings_asset(validated_run, oracle):
    if not validated_run.success:
        pytest.fail(explain_failure(validated_run, "validated_readings"), pytrace=False)
    table = query("select * from phase2.validated_readings")
    assert table and set(table[0]) == VALIDATED_COLUMNS, (
        f"phase2.validated_readings must have the columns {sorted(VALIDATED_COLUMNS)}, "
        f"got {sorted(table[0]) if table else 'no rows'}"
    )
    got = {(r["city"], r["observed_at"]) for r in table}
    extra, lost = got - set(oracle["valid"]), set(oracle["valid"]) - got
    assert len(table) == len(oracle["valid"]) and not extra and not lost, (
        f"expected {len(oracle['valid'])} valid readings, got {len(table)} "
        f"({len(extra)} that break a rule or repeat, {len(lost)} valid ones missing)"
    )
    wrong = [r for r in table if abs(r["temperature_c"] - oracle["valid"][(r["city"], r["observed_at"])]) > 0.051]  # fmt: skip
    assert not wrong, (
        f"{len(wrong)} temperature_c values are not the reading in °C, e.g. {wrong[0]}"
    )
    events = validated_run.asset_materializations_for_node("phase2__validated_readings")
    meta = {k: v.value for k, v in (events[-1].metadata if events else {}).items()}
    want = {"row_count": len(oracle["valid"]), "rejected_total": sum(oracle["counts"].values())}
    want |= {f"rejected_{reason}": n for reason, n in oracle["counts"].items()}
    for name, value in want.items():
        assert name in meta, f"metadata {name!r} is missing (found: {sorted(meta) or 'none'})"
        assert meta[name] == value, f"metadata {name!r} is {meta[name]!r}, expected {value}"


# --- TODO 3: aggregate_city_days ------------------------------------------------------------------

CHICAGO = timezone(timedelta(hours=-6))  # how a database in Chicago hands out timestamps


def _valid(city, when, temp, precip):
    return {
        "station_id": "XX-1", "city": city, "country": "XX", "observed_at": when,
        "temperature_c": temp, "humidity_pct": 50.0, "wind_speed_kmh": 5.0,
        "pressure_hpa": 1000.0, "precipitation_mm": precip, "condition": "rain",
    }  # fmt: skip


AGG_INPUT = [
    _valid("Oslo", datetime(2024, 1, 5, 0, 0, tzinfo=UTC), 1.0, 0.1),
    _valid("Oslo", datetime(2024, 1, 5, 23, 0, tzinfo=UTC), 2.0, 0.2),
    # 17:30 in Chicago on Jan 5 is 23:30 UTC on Jan 5; 20:00 in Chicago is 02:00 UTC on Jan 6.
    _valid("Oslo", datetime(2024, 1, 5, 17, 30, tzinfo=CHICAGO), 2.0, 0.0),
    _valid("Oslo", datetime(2024, 1, 5, 20, 0, tzinfo=CHICAGO), -3.5, 1.2),
    _valid("Cairo", datetime(2024, 1, 6, 12, 0, tzinfo=UTC), 20.5, 0.0),
]
AGG_EXPECTED = {
    ("Oslo", date(2024, 1, 5)): (3, 1.0, 2.0, 1.67, 0.3),
    ("Oslo", date(2024, 1, 6)): (1, -3.5, -3.5, -3.5, 1.2),
    ("Cairo", date(2024, 1, 6)): (1, 20.5, 20.5, 20.5, 0.0),
}
AGG_FIELDS = ("reading_count", "min_temperature_c", "max_temperature_c", "mean_temperature_c",
              "total_precipitation_mm")  # fmt: skip


def test_aggregate_city_days_values(phase):
    fn = given(phase, "aggregate_city_days")
    out = list(fn([dict(r) for r in AGG_INPUT]))
    assert out and set(out[0]) == AGGREGATE_COLUMNS, (
        f"each aggregate has the keys {sorted(AGGREGATE_COLUMNS)}, got {sorted(out[0]) if out else 'no rows'}"
    )
    bad_day = [r["day"] for r in out if type(r["day"]) is not date]
    assert not bad_day, f"day must be a datetime.date, got {bad_day[0]!r}"
    got = {(r["city"], r["day"]): r for r in out}
    assert set(got) == set(AGG_EXPECTED), (
        f"expected one row per (city, UTC day) {sorted(AGG_EXPECTED)}, got {sorted(got)}. "
        "20:00 in Chicago (-06:00) on Jan 5 is Jan 6 in UTC: use observed_at.astimezone(UTC).date()"
    )
    for key, values in AGG_EXPECTED.items():
        for field, want in zip(AGG_FIELDS, values):
            value = got[key][field]
            assert abs(value - want) <= 1e-9, (
                f"{key[0]} {key[1]}: {field} is {value!r}, expected {want} "
                "(mean rounded to 2 decimals, precipitation total to 1)"
            )


# --- TODO 4: city_aggregates, its input loaded from Postgres -------------------------------------


@pytest.fixture(scope="module")
def aggregates_run(phase, validated_run, instance):
    """Materialize city_aggregates alone: its input comes from a table the grader wrote."""
    query(SEED_VALIDATED_SQL, ALL_TIME)
    query("drop table if exists phase2.city_aggregates")
    assets = [given(phase, n) for n in ("raw_readings", "validated_readings", "city_aggregates")]
    run = dg.materialize(
        assets, resources=RESOURCES, selection=[assets[-1]], raise_on_error=False, instance=instance
    )
    return run, query(AGGREGATES_SQL)


def test_city_aggregates_from_postgres(aggregates_run):
    run, expected = aggregates_run
    if not run.success:
        pytest.fail(explain_failure(run, "city_aggregates"), pytrace=False)
    table = query("select * from phase2.city_aggregates")
    assert table and set(table[0]) == AGGREGATE_COLUMNS, (
        f"phase2.city_aggregates must have the columns {sorted(AGGREGATE_COLUMNS)}, "
        f"got {sorted(table[0]) if table else 'no rows'}"
    )
    got = {(r["city"], r["day"]): r for r in table}
    want = {(r["city"], r["day"]): r for r in expected}
    assert len(table) == len(got) == len(want) and set(got) == set(want), (
        f"expected {len(want)} rows, one per city and UTC day, got {len(table)}; e.g. missing "
        f"{sorted(set(want) - set(got))[:2]}, unexpected {sorted(set(got) - set(want))[:2]}"
    )
    tolerance = {"mean_temperature_c": 0.01 + 1e-9}  # either way of rounding a tie passes
    for key, w in sorted(want.items()):
        for field in AGG_FIELDS:
            g = got[key][field]
            assert abs(float(g) - float(w[field])) <= tolerance.get(field, 1e-6), (
                f"{key[0]} {key[1]}: {field} is {g}, expected {w[field]}"
            )


# --- TODO 5: the blocking check -------------------------------------------------------------------


def test_blocking_temperature_check(phase):
    check = given(phase, "temperatures_in_plausible_range")
    specs = list(getattr(check, "check_specs", []))
    assert len(specs) == 1, "temperatures_in_plausible_range must be an @dg.asset_check"
    spec = specs[0]
    assert spec.asset_key == dg.AssetKey(["phase2", "validated_readings"]), (
        f"the check must target phase2/validated_readings, not {spec.asset_key.to_user_string()}"
    )
    assert spec.blocking, "the check must be blocking: @dg.asset_check(..., blocking=True)"
    when = datetime(2024, 1, 5, tzinfo=UTC)
    good = [_valid("Oslo", when, t, 0.0) for t in (-90.0, 0.0, 60.0)]
    cases = [
        ("-90.0, 0.0 and 60.0 °C", good, True, 0),
        ("no rows", [], True, 0),
        ("a 999.9 °C row", [*good, _valid("Oslo", when, 999.9, 0.0)], False, 1),
        ("a -90.1 °C row", [*good, _valid("Oslo", when, -90.1, 0.0)], False, 1),
        ("a row without temperature_c", [*good, _valid("Oslo", when, None, 0.0)], False, 1),
    ]
    compute = check.op.compute_fn
    # Call the check's function directly: invoking the check object builds a Dagster instance
    # each time (about half a second).
    call = check if compute.has_context_arg() else compute.decorated_fn
    for label, rows, passed, out_of_range in cases:
        result = call([dict(r) for r in rows])
        assert isinstance(result, dg.AssetCheckResult), "the check must return dg.AssetCheckResult"
        assert result.passed is passed, (
            f"with {label} the check must {'pass' if passed else 'fail'}, it did not"
        )
        meta = result.metadata or {}
        assert "out_of_range" in meta, "report metadata 'out_of_range' (the number of bad rows)"
        value = getattr(meta["out_of_range"], "value", meta["out_of_range"])
        assert value == out_of_range, (
            f"with {label} out_of_range must be {out_of_range}, got {value}"
        )


def test_tests_catch_broken_versions(phase, record_property):
    learner_tests.grade(phase, 2, broken, "TODO 6", record_property)
