"""The UI-steps checklist, read from a Dagster instance's records.

Runs are recorded here through Dagster's instance API (``dg.materialize`` on an instance laid
out like the learner's ``.dagster_home/``), with assets of the lessons' own keys and the tags the
UI, a backfill, a sensor and declarative automation put on their runs. tests/e2e/test_browser.py
does two of the steps through the real webserver.
"""

from __future__ import annotations

import dagster as dg
import pytest

from workbook.course.ui_steps import ui_steps
from workbook.learner import checklist

DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-31")


def _asset(key: str, partitioned: bool = False, fail: bool = False) -> dg.AssetsDefinition:
    @dg.asset(key=key.split("/"), partitions_def=DAILY if partitioned else None,
              io_manager_key="mem")  # fmt: skip
    def _a() -> int:
        if fail:
            raise RuntimeError("a failed run marks nothing")
        return 1

    return _a


def _run(instance, keys: list[str], partitioned=False, fail=False, **kwargs) -> None:
    dg.materialize(
        [_asset(k, partitioned, fail) for k in keys], instance=instance, raise_on_error=False,
        resources={"mem": dg.InMemoryIOManager()}, **kwargs,
    )  # fmt: skip


def _done(home) -> set[tuple[int, str]]:
    return {
        (s.phase, s.id) for steps in checklist.checklist(home).values() for s, ok in steps if ok
    }


@pytest.fixture
def home(tmp_path):
    (tmp_path / "storage").mkdir()
    return tmp_path


def test_an_empty_or_missing_instance_marks_nothing(tmp_path, home):
    assert _done(tmp_path / "no-such-home") == set()
    assert not (tmp_path / "no-such-home").exists(), "reading must create nothing"
    with checklist.open_instance(home):
        pass
    assert _done(home) == set()
    assert len([s for steps in checklist.checklist(home).values() for s in steps]) == len(
        ui_steps()
    )


def test_each_step_is_marked_done_by_the_run_that_does_it(home):
    with checklist.open_instance(home) as instance:
        # near misses first: none of them may mark a step
        _run(instance, ["phase1/raw_weather_data"])  # one asset of two
        _run(instance, ["phase1/raw_weather_data", "phase1/cleaned_weather_data"], fail=True)
        _run(instance, ["phase2/validated_readings", "phase2/city_aggregates"])  # not alone
        for day in ("2024-01-01", "2024-01-02"):  # a backfill of 2 days
            _run(instance, ["phase3/daily_readings"], True, partition_key=day,
                 tags={"dagster/backfill": "short"})  # fmt: skip
        for day in ("2024-01-03", "2024-01-04", "2024-01-05"):  # 3 days, but not a backfill
            _run(instance, ["phase3/daily_readings"], True, partition_key=day)
        _run(instance, ["phase5/daily_summary"])  # by hand, not by automation
    assert _done(home) == set()

    phase2 = ["phase2/raw_readings", "phase2/validated_readings", "phase2/city_aggregates",
              "phase2/weather_report"]  # fmt: skip
    phase4 = ["phase4/raw_weather_readings", "phase4/stg_weather_readings",
              "phase4/daily_weather_summary", "phase4/weather_alerts"]  # fmt: skip
    with checklist.open_instance(home) as instance:
        _run(instance, ["phase1/raw_weather_data", "phase1/cleaned_weather_data"])
        _run(instance, phase2)
        _run(instance, ["phase2/city_aggregates"])
        for day in ("2024-01-01", "2024-01-02", "2024-01-03"):  # a per-partition backfill
            _run(instance, ["phase3/daily_readings"], True, partition_key=day,
                 tags={"dagster/backfill": "bf1"})  # fmt: skip
        _run(instance, phase4, True, partition_key="2024-01-14")
        _run(instance, ["phase5/incoming_readings"],
             tags={"dagster/sensor_name": "phase5_incoming_file_sensor"})  # fmt: skip
        _run(instance, ["phase5/daily_summary"],
             tags={"dagster/from_automation_condition": "true",
                   "dagster/sensor_name": "phase5_automation_sensor"})  # fmt: skip
    assert _done(home) == {(s.phase, s.id) for s in ui_steps()}


def test_a_single_run_backfill_counts_its_days(home):
    tags = {"dagster/asset_partition_range_start": "2024-01-01",
            "dagster/asset_partition_range_end": "2024-01-07"}  # fmt: skip
    with checklist.open_instance(home) as instance:
        _run(instance, ["phase3/daily_readings"], True, tags=tags)
    assert _done(home) == {(3, "backfill_three_days")}


def test_progress_shows_the_checklist(home, monkeypatch, capsys):
    from workbook.learner import progress

    with checklist.open_instance(home) as instance:
        _run(instance, ["phase1/raw_weather_data", "phase1/cleaned_weather_data"])
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    progress.show_ui_steps()
    out = capsys.readouterr().out
    assert f"UI steps: 1/{len(ui_steps())} done" in out and "not graded" in out
    assert "  1  [x] materialize raw_weather_data and cleaned_weather_data" in out
    assert "  3  [ ] launch a backfill of daily_readings" in out
