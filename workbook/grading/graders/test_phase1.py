"""Grader for Phase 1: each test is one requirement (titles and hints: requirements.toml).

Expected values are computed independently, in SQL, from the seeded source table. The rules'
edges (the bounds of the range, a duplicate whose copies differ, 0.0 °C, rounding) are pinned
down by calling the asset function directly with hand-made rows (``PROBE``).
"""

from __future__ import annotations

import inspect
import re
from datetime import UTC, datetime, timedelta

import broken_phase1 as broken
import dagster as dg
import pytest

from workbook.course.explain import explain_exception, explain_failure
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


T0 = datetime(2024, 2, 1, tzinfo=UTC)
RAW_COLUMNS = (
    "station_id",
    "city",
    "country",
    "observed_at",
    "temperature",
    "temperature_unit",
    "humidity_pct",
    "wind_speed_kmh",
    "pressure_hpa",
    "precipitation_mm",
    "condition",
)
CLEAN_COLUMNS = {*RAW_COLUMNS, "temperature_c"} - {"temperature", "temperature_unit"}


def _raw(hour: int, temperature, unit: str = "C", **changes) -> dict:
    row = {"station_id": "PR-0001", "city": "Probeville", "country": "XX",
           "observed_at": T0 + timedelta(hours=hour), "temperature": temperature,
           "temperature_unit": unit, "humidity_pct": 40.0 + hour, "wind_speed_kmh": 3.0 + hour,
           "pressure_hpa": 1000.0 + hour, "precipitation_mm": 0.1 * hour,
           "condition": f"probe {hour}"}  # fmt: skip
    row.update(changes)
    return row


# (the reading, what it is, the temperature_c it must give, or None if it must be dropped)
PROBE = [
    (_raw(0, 60.0), "60.0 °C (the upper bound is inclusive)", 60.0),
    (_raw(1, -90.0), "-90.0 °C (the lower bound is inclusive)", -90.0),
    (_raw(2, -130.0, "F"), "-130 °F (exactly -90 °C)", -90.0),
    (_raw(3, 140.0, "F"), "140 °F (exactly 60 °C)", 60.0),
    (_raw(4, 60.1), "60.1 °C", None),
    (_raw(5, -90.1), "-90.1 °C", None),
    (_raw(6, 0.0), "0.0 °C (a real temperature, not a missing one)", 0.0),
    (_raw(7, None), "a missing temperature", None),
    (_raw(8, 70.0, "F"), "70 °F (21.1 °C)", 21.1),
    (_raw(9, 12.34), "12.34 °C", 12.3),
    (_raw(9, 12.34), "an identical second delivery of 12.34 °C", "dup"),
    (_raw(9, 12.34), "an identical third delivery of 12.34 °C", "dup"),
    (_raw(10, 12.36), "12.36 °C", 12.4),
    (_raw(10, 13.0, humidity_pct=99.0, condition="corrected"),
     "a corrected second delivery of the same city and hour (13.0 °C)", "dup"),
    (_raw(11, 140.2, "F"), "140.2 °F (60.1 °C)", None),
    (_raw(12, 50.5, "F"), "50.5 °F (10.28 °C)", 10.3),
    (_raw(13, 60.04), "60.04 °C (outside the range, although it rounds to 60.0)", None),
    (_raw(14, 5.0), "5.0 °C", 5.0),
    (_raw(14, 5.0, station_id="PR-0002"),
     "the same city and hour from another station (PR-0002)", "dup"),
]  # fmt: skip
PROBE_KEPT = {r["observed_at"]: (label, t) for r, label, t in PROBE if t not in (None, "dup")}
PROBE_META = {"row_count": 10, "dropped_unusable": 5, "dropped_duplicates": 4}


def _when(row) -> str:
    return f"{row['city']} {row['observed_at']:%Y-%m-%d %H:%M}"


def _shown(value) -> str:
    """A value with its type, where the type may be the mistake: '8429' (str), 8429 (int)."""
    text = repr(value)
    return (text if len(text) <= 60 else text[:57] + "...") + f" ({type(value).__name__})"


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@pytest.fixture(scope="module")
def probe(phase):
    """The asset function called directly with PROBE's rows: (rows, metadata) or a failure."""
    asset = phase.cleaned_weather_data
    context = dg.build_asset_context()
    rows = [dict(r) for r, _, _ in PROBE]
    try:
        if "raw_weather_data" not in asset.op.ins:
            return None, None, "it has no parameter raw_weather_data (TODO 1)"
        if asset.op.compute_fn.has_context_arg():
            out = asset(context, raw_weather_data=rows)
        else:
            out = asset(raw_weather_data=rows)
    except Exception as exc:  # noqa: BLE001 - the learner's error, explained
        return None, None, explain_exception(exc)
    if inspect.isgenerator(out):  # an asset that yields its dg.Output
        try:
            out = next((o for o in out if isinstance(o, dg.Output)), None)
        except Exception as exc:  # noqa: BLE001 - the learner's error, explained
            return None, None, explain_exception(exc)
    try:  # metadata added through the context, and (below) on a dg.Output: Dagster merges both
        meta = dict(context.get_output_metadata("result") or {})
    except Exception:  # noqa: BLE001 - no metadata recorded
        meta = {}
    if isinstance(out, dg.Output):
        meta.update(out.metadata or {})
        out = out.value
    if not isinstance(out, list) or not all(isinstance(r, dict) for r in out):
        return None, None, f"it returned {_shown(out)}, not a list of row dicts"
    return out, meta, None


def _probe_rows(probe) -> list[dict]:
    rows, _, error = probe
    if error:
        pytest.fail(f"cleaned_weather_data called with hand-made rows: {error}", pytrace=False)
    return rows


def _check_numbers(rows, where: str) -> None:
    bad = [r for r in rows if "temperature_c" in r and r["temperature_c"] is not None
           and not _is_number(r["temperature_c"])]  # fmt: skip
    assert not bad, (
        f"{where}: temperature_c must be a number, got {_shown(bad[0]['temperature_c'])} for "
        f"{_when(bad[0])}: store round(celsius, 1), not text"
    )


def _example(rows, n=3) -> str:
    return "; ".join(f"{r['city']} {r['observed_at']:%Y-%m-%d %H:%M}" for r in rows[:n])


def test_depends_on_raw_weather_data(phase):
    asset = phase.cleaned_weather_data
    deps = {k.path[-1] for k in asset.dependency_keys}
    assert "raw_weather_data" in deps, (
        "cleaned_weather_data does not depend on raw_weather_data (its upstream assets: "
        f"{sorted(deps) or 'none'}). TODO 1: add a parameter named raw_weather_data."
    )
    params = sorted(n for n in asset.op.ins)
    assert "raw_weather_data" in asset.op.ins, (
        "cleaned_weather_data lists raw_weather_data as a dependency but takes no parameter "
        f"raw_weather_data (its inputs: {params}), so it reads the rows some other way. TODO 1: "
        "the parameter is the edge; Dagster passes the raw rows in, no query needed."
    )


def test_drops_unusable_readings(table, expected, probe):
    rows = _probe_rows(probe)
    _check_numbers(rows, "with hand-made rows")
    kept = {r.get("observed_at") for r in rows}
    for raw, label, want in PROBE:
        if want is None:
            assert raw["observed_at"] not in kept, (
                f"{label} was kept: a reading outside -90..60 °C (in °C) or without a temperature "
                "is unusable"
            )
        elif want != "dup":
            if raw["temperature"] == 0.0:
                why = "0.0 is a temperature, not a missing one: test `is None`, not falsiness"
            elif raw["temperature_unit"] == "F":
                why = "convert °F to °C before the range check: (F - 32) * 5 / 9"
            else:
                why = "the range -90..60 °C includes both bounds: use <=, not <"
            assert raw["observed_at"] in kept, (
                f"{label} was dropped as unusable, but it is a usable reading: {why}"
            )
    _check_numbers(table, "phase1.cleaned_weather_data")
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


def test_temperatures_in_celsius(table, expected, probe):
    assert table and "temperature_c" in table[0], "there is no temperature_c column"
    leftover = {"temperature", "temperature_unit"} & set(table[0])
    assert not leftover, f"drop the column(s) {sorted(leftover)} once temperature_c exists"
    assert set(table[0]) == CLEAN_COLUMNS, (
        f"phase1.cleaned_weather_data has the columns {sorted(table[0])}, expected "
        f"{sorted(CLEAN_COLUMNS)}: keep every other column as it is (missing "
        f"{sorted(CLEAN_COLUMNS - set(table[0]))}, unexpected {sorted(set(table[0]) - CLEAN_COLUMNS)})"
    )
    _check_numbers(table, "phase1.cleaned_weather_data")
    unrounded = [r for r in table if r["temperature_c"] != round(r["temperature_c"], 1)]
    assert not unrounded, (
        f"{len(unrounded)} temperatures are not rounded to 1 decimal, e.g. {_example(unrounded, 1)}:"
        f" {unrounded[0]['temperature_c']!r}. Use round(celsius, 1)"
    )
    rows = _probe_rows(probe)
    _check_numbers(rows, "with hand-made rows")
    for r in rows:
        if r.get("observed_at") not in PROBE_KEPT:
            continue
        label, want = PROBE_KEPT[r["observed_at"]]
        if label == "12.36 °C" and r.get("temperature_c") == 13.0:
            continue  # the corrected copy was kept instead: either copy is one row
        assert r.get("temperature_c") == want, (
            f"{label} must give temperature_c {want}, got {_shown(r.get('temperature_c'))}"
            " (°F: (F - 32) * 5 / 9, then round(value, 1))"
        )
        copies = [raw for raw, _, _ in PROBE if raw["observed_at"] == r.get("observed_at")]
        changes = [
            {c: r.get(c) for c in CLEAN_COLUMNS - {"temperature_c"} if r.get(c) != raw[c]}
            for raw in copies
        ]  # any copy of the hour may be the one kept
        changed = min(changes, key=len)
        assert not changed, (
            f"{label}: the columns {sorted(changed)} were changed or dropped (got "
            f"{ {k: changed[k] for k in list(changed)[:2]} }): keep every other column as it is"
        )
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


def test_one_row_per_city_hour(table, probe):
    keys = [(r["city"], r["observed_at"]) for r in table]
    extra = len(keys) - len(set(keys))
    assert extra == 0, f"{extra} duplicate readings were kept: keep one row per (city, observed_at)"
    rows = _probe_rows(probe)
    hours = [r.get("observed_at") for r in rows]
    for hour, label in ((9, "three identical deliveries"),
                        (10, "two deliveries with different values"),
                        (14, "two deliveries from different stations")):  # fmt: skip
        n = hours.count(T0 + timedelta(hours=hour))
        assert n == 1, (
            f"{label} of Probeville {T0 + timedelta(hours=hour):%Y-%m-%d %H:%M} gave {n} rows, "
            "expected 1: a duplicate is the same (city, observed_at), whatever the other values "
            "(station_id included) say"
        )


def test_reports_metadata(run, table, expected, probe):
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
        assert isinstance(got, int) and not isinstance(got, bool), (
            f"metadata {name!r} is {_shown(got)}, expected the whole number {value}: pass the "
            "int (len(...)), not text or a float"
        )
        assert got == value, f"metadata {name!r} is {got}, expected {value}"
    assert "preview" in meta, "metadata 'preview' is missing: add a Markdown table of a few rows"
    assert isinstance(meta["preview"], dg.MarkdownMetadataValue), "preview must be MetadataValue.md"
    _check_table(meta["preview"].value or "")
    _, probe_meta, error = probe
    if error is None:
        for name, value in PROBE_META.items():
            got = getattr(probe_meta.get(name), "value", probe_meta.get(name))
            assert got == value, (
                f"with hand-made rows ({len(PROBE)} readings: 5 unusable, a reading delivered three "
                "times, two delivered twice (one by another station)) metadata "
                f"{name!r} is {_shown(got)}, expected {value}"
            )


def _check_table(text: str) -> None:
    """A Markdown table: a header row naming columns, a |---| separator, at least one row."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    shown = _shown(text)
    assert len(lines) >= 3 and all(line.startswith("|") for line in lines[:3]), (
        f"preview must be a Markdown table (a | header |, a |---| line, then | rows |), got {shown}"
    )
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert re.fullmatch(r"\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?", lines[1]), (
        f"preview: the second line of a Markdown table separates the header with |---|, got "
        f"{_shown(lines[1])}"
    )
    assert {"city", "temperature_c"} <= set(header), (
        f"preview: the header should name the columns (city, temperature_c, ...), got {header}"
    )


def phase_node(run) -> str:
    return next(
        node.name for node in run.job_def.graph.nodes if node.name.endswith("cleaned_weather_data")
    )


def test_tests_catch_broken_versions(phase, record_property):
    learner_tests.grade(phase, 1, broken, "TODO 6", record_property)
