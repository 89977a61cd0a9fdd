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
from phase2_cases import CASES, _reading, _why

from workbook.course.explain import explain_failure
from workbook.course.phases import given
from workbook.grading import learner_tests
from workbook.platform import rules
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


# workbook/platform/rules.py holds the reference versions of TODO 1 and TODO 3 (Phase 3 and the
# Airflow baseline use them). While Phase 2 is graded they refuse to run, so that importing,
# aliasing or calling them scores nothing: the code object itself is swapped, which reaches every
# reference to the function, however it was imported.
REFERENCE = {
    "validate_readings": "TODO 1",
    "rejection_reason": "TODO 1",
    "aggregate_city_days": "TODO 3",
}


def _refusal(name: str, todo: str):
    message = (
        f"{name} here is the workbook's reference copy (workbook/platform/rules.py), not yours: "
        f"{todo} asks you to write it in phase2_asset_graph.py"
    )
    namespace: dict = {}
    exec(f"def {name}(*args, **kwargs):\n    raise RuntimeError({message!r})\n", namespace)
    return namespace[name].__code__


@pytest.fixture(scope="module")
def phase(phase_module):
    module = phase_module(2)
    saved = {name: getattr(rules, name).__code__ for name in REFERENCE}
    for name, todo in REFERENCE.items():
        getattr(rules, name).__code__ = _refusal(name, todo)
    try:
        yield module
    finally:
        for name, code in saved.items():
            getattr(rules, name).__code__ = code


def _own(phase, name: str, todo: str):
    """The phase's function ``name``, which must be defined in the phase file itself."""
    fn = given(phase, name)
    home = getattr(fn, "__module__", None)
    if home != phase.__name__:
        pytest.fail(
            f"{name} is {home}.{getattr(fn, '__qualname__', name)}, not a function defined in "
            f"phase2_asset_graph.py: {todo} asks you to write the rules yourself (def {name}(rows):"
            " ...), not to import or alias the workbook's reference copy",
            pytrace=False,
        )
    return fn


# --- TODO 1: validate_readings ------------------------------------------------------------------


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


def _keeps_source_values(row: dict, source: dict, label: str) -> None:
    changed = {c: row.get(c) for c in VALIDATED_COLUMNS - {"temperature_c"}
               if row.get(c) != source[c]}  # fmt: skip
    assert not changed, (
        f"{label}: a valid row keeps the source's values, but these changed: {changed} (the "
        f"source has { {c: source[c] for c in changed} }); a missing optional value stays None"
    )


def test_validate_readings_rules(phase):
    fn = _own(phase, "validate_readings", "TODO 1")
    for label, changes, reason in CASES:
        valid, rejected = _validate(fn, [_reading(0, **changes)])
        if reason is None:
            assert len(valid) == 1 and not rejected, (
                f"{label} is valid, but validate_readings rejected it as "
                f"{rejected or 'nothing'}.{_why(label, reason)}"
            )
            _keeps_source_values(valid[0], _reading(0, **changes), label)
        else:
            assert not valid and rejected == {reason: 1}, (
                f"{label} must be rejected once as {reason!r}; got "
                f"{rejected or 'kept as valid'}.{_why(label, reason)}"
            )
    valid, _ = _validate(fn, [_reading(0, temperature=131.0, temperature_unit="F")])
    row = valid[0]
    assert set(row) == VALIDATED_COLUMNS, (
        f"a valid row has the columns {sorted(VALIDATED_COLUMNS)}; got {sorted(row)}"
    )
    assert row["temperature_c"] == 55.0, (
        f"131 °F must give temperature_c 55.0, got {row['temperature_c']!r}"
    )
    for changes, want in (({}, 12.3), ({"temperature": 70.0, "temperature_unit": "F"}, 21.1),
                          ({"temperature": 50.5, "temperature_unit": "F"}, 10.3)):  # fmt: skip
        reading = _reading(0, **changes)
        valid, _ = _validate(fn, [reading])
        got = valid[0]["temperature_c"]
        assert got == want and isinstance(got, float), (
            f"{reading['temperature']} °{reading['temperature_unit']} must give temperature_c "
            f"{want}, got {got!r}: convert to °C, then round(value, 1), for every unit"
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
    other_station = _reading(4, station_id="XX-0002", station_name="Other Field")
    valid, rejected = _validate(fn, [_reading(4), other_station])
    assert rejected == {"duplicate": 1} and len(valid) == 1, (
        "two valid readings of Testville at the same hour from two stations (XX-0001, XX-0002):"
        " a duplicate is the same (city, observed_at), whatever the station; got "
        f"{len(valid)} valid and rejected {rejected or 'nothing'}"
    )
    # Two valid deliveries of one city and hour that differ: the first one wins.
    first, second = _reading(3, temperature=10.0), _reading(3, temperature=20.0, humidity_pct=90.0)
    valid, rejected = _validate(fn, [first, second])
    kept = [(r["temperature_c"], r["humidity_pct"]) for r in valid]
    assert rejected == {"duplicate": 1} and kept == [(10.0, 60.0)], (
        "two valid readings of Testville at the same hour, 10.0 °C then a corrected 20.0 °C: the "
        f"first one is kept and the second is a duplicate. Got valid rows (temperature_c, "
        f"humidity_pct) {kept} and rejected {rejected}"
    )


# --- TODO 2: the validated_readings asset on the seeded data -------------------------------------


@pytest.fixture(scope="module")
def oracle():
    return expected()


@pytest.fixture(scope="module")
def validated_run(phase, instance):
    query("drop schema if exists phase2 cascade")  # no stale table can pass
    assets = [given(phase, "raw_readings"), given(phase, "validated_readings")]
    return dg.materialize(assets, resources=RESOURCES, raise_on_error=False, instance=instance)


def test_validated_readings_asset(phase, validated_run, oracle):
    _own(phase, "validate_readings", "TODO 1")
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
    unrounded = [r for r in table if r["temperature_c"] != round(r["temperature_c"], 1)]
    assert not unrounded, (
        f"{len(unrounded)} stored temperature_c values are not rounded to 1 decimal, e.g. "
        f"{unrounded[0]['city']} {unrounded[0]['observed_at']:%Y-%m-%d %H:%M}: "
        f"{unrounded[0]['temperature_c']!r}"
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
        got = meta[name]
        assert isinstance(got, int) and not isinstance(got, bool), (
            f"metadata {name!r} is {got!r} ({type(got).__name__}), expected the number {value}"
        )
        assert got == value, f"metadata {name!r} is {got!r}, expected {value}"


# --- TODO 3: aggregate_city_days ------------------------------------------------------------------

CHICAGO = timezone(timedelta(hours=-6))  # how a database in Chicago hands out timestamps


def _valid(city, when, temp, precip):
    return {
        "station_id": "XX-1", "city": city, "country": "XX", "observed_at": when,
        "temperature_c": temp, "humidity_pct": 50.0, "wind_speed_kmh": 5.0,
        "pressure_hpa": 1000.0, "precipitation_mm": precip, "condition": "rain",
    }  # fmt: skip


AGG_INPUT = [
    # Precipitation 0.14 + 0.22 = 0.36 mm: 0.4 rounded to 1 decimal (0.36 is 2 decimals).
    _valid("Oslo", datetime(2024, 1, 5, 0, 0, tzinfo=UTC), 1.0, 0.14),
    _valid("Oslo", datetime(2024, 1, 5, 23, 0, tzinfo=UTC), 2.0, 0.22),
    # 17:30 in Chicago on Jan 5 is 23:30 UTC on Jan 5; 20:00 in Chicago is 02:00 UTC on Jan 6.
    _valid("Oslo", datetime(2024, 1, 5, 17, 30, tzinfo=CHICAGO), 2.0, 0.0),
    _valid("Oslo", datetime(2024, 1, 5, 20, 0, tzinfo=CHICAGO), -3.5, 1.2),
    _valid("Cairo", datetime(2024, 1, 6, 12, 0, tzinfo=UTC), 20.5, 0.0),
]
AGG_EXPECTED = {
    ("Oslo", date(2024, 1, 5)): (3, 1.0, 2.0, 1.67, 0.4),
    ("Oslo", date(2024, 1, 6)): (1, -3.5, -3.5, -3.5, 1.2),
    ("Cairo", date(2024, 1, 6)): (1, 20.5, 20.5, 20.5, 0.0),
}
AGG_FIELDS = ("reading_count", "min_temperature_c", "max_temperature_c", "mean_temperature_c",
              "total_precipitation_mm")  # fmt: skip


def test_aggregate_city_days_values(phase):
    fn = _own(phase, "aggregate_city_days", "TODO 3")
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
            assert isinstance(value, int | float) and not isinstance(value, bool), (
                f"{key[0]} {key[1]}: {field} is {value!r} ({type(value).__name__}), expected the "
                f"number {want}"
            )
            assert value == want, (
                f"{key[0]} {key[1]}: {field} is {value!r}, expected {want} exactly "
                "(mean rounded to 2 decimals, precipitation total to 1: round() the result)"
            )


# --- TODO 4: city_aggregates, its input loaded from Postgres -------------------------------------


@pytest.fixture(scope="module")
def aggregates_run(phase, instance):
    """Materialize city_aggregates alone: its input comes from a table the grader wrote."""
    query(SEED_VALIDATED_SQL, ALL_TIME)
    query("drop table if exists phase2.city_aggregates")
    assets = [given(phase, n) for n in ("raw_readings", "validated_readings", "city_aggregates")]
    run = dg.materialize(
        assets, resources=RESOURCES, selection=[assets[-1]], raise_on_error=False, instance=instance
    )
    return run, query(AGGREGATES_SQL)


def test_city_aggregates_from_postgres(phase, aggregates_run):
    asset = given(phase, "city_aggregates")
    inputs = sorted(asset.op.ins)
    assert "validated_readings" in asset.op.ins, (
        "city_aggregates takes no parameter validated_readings (its inputs: "
        f"{inputs or 'none'}): without it there is no edge in the graph, so the blocking check "
        "cannot stop it and the IO manager does not load its input. TODO 4: aggregate the "
        "parameter, do not query the table"
    )
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
            digits = {"mean_temperature_c": 2, "total_precipitation_mm": 1}.get(field)
            assert digits is None or float(g) == round(float(g), digits), (
                f"{key[0]} {key[1]}: {field} is {g!r}, not rounded to {digits} decimal(s)"
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
        (
            "a 60.1 °C row and a -999.9 °C row",
            [_valid("Oslo", when, 60.1, 0.0), *good, _valid("Oslo", when, -999.9, 0.0)],
            False,
            2,
        ),
        ("a row without temperature_c", [*good, _valid("Oslo", when, None, 0.0)], False, 1),
    ]
    compute = check.op.compute_fn
    # Call the check's function directly: invoking the check object builds a Dagster instance
    # each time (about half a second).
    if compute.has_context_arg():
        context = dg.build_asset_check_context()

        def call(rows):
            return compute.decorated_fn(context, rows)
    else:
        call = compute.decorated_fn
    for label, rows, passed, out_of_range in cases:
        result = call([dict(r) for r in rows])
        assert isinstance(result, dg.AssetCheckResult), "the check must return dg.AssetCheckResult"
        assert result.passed is passed, (
            f"with {label} the check must {'pass' if passed else 'fail'}, it did not"
        )
        severity = getattr(result, "severity", dg.AssetCheckSeverity.ERROR)
        assert passed or severity == dg.AssetCheckSeverity.ERROR, (
            f"with {label} the check fails with severity {severity.value}: a failed check blocks "
            "the downstream assets only with severity ERROR (the default), so leave severity out"
        )
        meta = result.metadata or {}
        assert "out_of_range" in meta, "report metadata 'out_of_range' (the number of bad rows)"
        value = getattr(meta["out_of_range"], "value", meta["out_of_range"])
        assert value == out_of_range and type(value) is int, (
            f"with {label} out_of_range must be the number of failing rows, {out_of_range}, got "
            f"{value!r} ({type(value).__name__})"
        )


def test_tests_catch_broken_versions(phase, record_property):
    learner_tests.grade(phase, 2, broken, "TODO 6", record_property)
