"""Grader for Phase 5: each test is one requirement (titles and hints: requirements.toml).

The sensor is evaluated with ``build_sensor_context`` over temporary directories filled by the
real generator; the automation conditions with ``evaluate_automation_conditions`` over an
ephemeral instance, with runless materialization events standing in for real runs. Nothing here
writes to the database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import broken_phase5 as broken
import dagster as dg
import pytest
from phase5_files import (
    _age,
    builtin_calls,
    check_cursor,
    deliver,
    names,
    redeliver,
    redeliver_same_size,
    requested_path,
    run_keys,
    tick,
)

from workbook.course.phases import given
from workbook.grading import learner_tests
from workbook.platform import incoming
from workbook.platform.resources import RESOURCES

INCOMING = dg.AssetKey(["phase5", "incoming_readings"])
SUMMARY = dg.AssetKey(["phase5", "daily_summary"])
ROLLUP = dg.AssetKey(["phase5", "daily_rollup"])
SETTLE = 5.0

# evaluate_automation_conditions itself passes a beta parameter (include_sources) internally
pytestmark = pytest.mark.filterwarnings("ignore::dagster.BetaWarning")


@pytest.fixture(scope="module")
def phase(phase_module):
    return phase_module(5)


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    """An empty incoming directory the sensor watches (through $WORKBOOK_INCOMING_DIR)."""
    directory = tmp_path / "incoming"
    directory.mkdir()
    monkeypatch.setenv(incoming.INCOMING_ENV, str(directory))
    monkeypatch.setenv(incoming.SETTLE_ENV, str(SETTLE))
    return directory


def test_sensor_requests_each_new_file(phase, folder):
    files = [deliver(folder, date(2024, 1, d)) for d in (1, 2, 3)]
    requests, _ = tick(phase, None, "TODO 1")
    assert requests, "TODO 1: the sensor requested no run for 3 new files in the incoming directory"
    for r in requests:
        assert requested_path(r), (
            f"TODO 1: a RunRequest has no file path in its run_config (got {r.run_config!r}); "
            "pass run_config=ingest_run_config(file)"
        )
        assert r.job_name in (None, "phase5_ingest_job"), (
            f"TODO 1: the request targets job {r.job_name!r}, expected phase5_ingest_job"
        )
    got = names(requests)
    assert got == sorted(f.name for f in files), (
        f"TODO 1: expected one RunRequest per new file {[f.name for f in files]}, got {got}"
    )
    by_name = {f.name: f for f in incoming.ready_files(folder)}
    for r in requests:
        file = by_name[Path(requested_path(r)).name]
        want = phase.ingest_run_config(file)
        assert r.run_config == want, (
            f"TODO 1: the run_config for {file.name} is {r.run_config!r}, expected "
            f"ingest_run_config(file) = {want!r}: without the fingerprint the loader cannot tell "
            "that the file changed after the sensor saw it"
        )
    for r in requests:
        path = Path(requested_path(r))
        assert path.is_absolute() and path.exists(), (
            f"TODO 1: the run_config names {path}, which a run worker (another process, maybe "
            "another directory) cannot open: use the file's absolute path (file.path)"
        )


def test_sensor_keeps_a_cursor(phase, folder):
    first = [deliver(folder, date(2024, 1, d)) for d in (1, 2, 3)]
    requests, cursor = tick(phase, None, "TODO 2")
    assert names(requests) == sorted(f.name for f in first), (
        f"TODO 2 needs TODO 1 first: the first tick requested {names(requests)}, "
        f"expected {sorted(f.name for f in first)}"
    )
    assert cursor, "TODO 2: the sensor returned no cursor, so the next tick cannot know what it saw"
    check_cursor(cursor, folder, "after the first tick")

    again, cursor = tick(phase, cursor, "TODO 2")
    assert not again, (
        f"TODO 2: the second tick over the same files requested {names(again)} again: "
        "every file would be loaded twice. Skip files whose fingerprint is in the cursor."
    )
    new = deliver(folder, date(2024, 1, 4))
    got, cursor = tick(phase, cursor, "TODO 2")
    assert names(got) == [new.name], (
        f"TODO 2: after one new file ({new.name}) the sensor requested {names(got) or 'nothing'}"
    )
    redeliver(first[0])
    got, cursor = tick(phase, cursor, "TODO 2")
    assert names(got) == [first[0].name], (
        f"TODO 2: {first[0].name} was delivered again with new content, and the sensor requested "
        f"{names(got) or 'nothing'}: compare fingerprints, not just names"
    )
    check_cursor(cursor, folder, f"after {first[0].name} was delivered again,")
    redeliver_same_size(first[2])
    got, cursor = tick(phase, cursor, "TODO 2")
    assert names(got) == [first[2].name], (
        f"TODO 2: {first[2].name} was delivered again with one digit changed (the same size and "
        f"mtime, as cp -p keeps them), and the sensor requested {names(got) or 'nothing'}: "
        "compare the whole fingerprint, not the size or the time"
    )
    first[1].unlink()
    got, cursor = tick(phase, cursor, "TODO 2")
    assert not got, f"TODO 2: a tick after a file was removed requested {names(got)}"
    assert first[1].name not in (cursor or ""), (
        f"TODO 2: {first[1].name} left the directory but is still in the cursor ({cursor}): keep "
        "only the files still present, or the cursor grows forever"
    )
    check_cursor(cursor, folder, f"after {first[1].name} was removed,")
    present = sorted(f.name for f in folder.iterdir())
    for stale in ("not json", '["an", "older", "format"]'):
        try:
            got, cursor = tick(phase, stale, "TODO 2")
        except pytest.fail.Exception as exc:
            pytest.fail(
                f"{exc} (a tick with the unreadable cursor {stale!r}, left by an older version, "
                "say): read the cursor with load_cursor(context.cursor), which gives {} then",
                pytrace=False,
            )
        assert names(got) == present, (
            f"TODO 2: with the unreadable cursor {stale!r} (left by an older version, say) the "
            f"sensor requested {names(got) or 'nothing'}, expected every file there "
            f"({present}): read the cursor with load_cursor(context.cursor), which gives {{}} then"
        )
        check_cursor(cursor, folder, f"after a tick with the unreadable cursor {stale!r},")


def test_sensor_run_key_is_stable(phase, folder):
    files = [deliver(folder, date(2024, 1, d)) for d in (1, 2)]
    one, _ = tick(phase, None, "TODO 3")
    two, _ = tick(phase, None, "TODO 3")  # a lost cursor, or the daemon restarted
    assert one and two, "TODO 3 needs TODO 1 first: the sensor requested no runs"
    keys_one = run_keys(one)
    keys_two = run_keys(two)
    missing = [n for n, k in keys_one.items() if not k]
    assert not missing, (
        f"TODO 3: the requests for {missing} have no run_key, so nothing stops Dagster from "
        "loading a file twice when the cursor is lost"
    )
    assert len(set(keys_one.values())) == len(files), (
        f"TODO 3: different files share a run_key ({keys_one}); Dagster would skip all but one"
    )
    changed = {
        n: (keys_one[n], keys_two.get(n)) for n in keys_one if keys_two.get(n) != keys_one[n]
    }
    assert not changed, (
        f"TODO 3: the run_key of an unchanged file differs between two evaluations, e.g. "
        f"{next(iter(changed.items()))}: build it from the file (name and fingerprint), not from "
        "the time or a random value"
    )
    salted = builtin_calls(given(phase, "run_key_for"), ("hash", "id"))
    assert not salted, (
        f"TODO 3: run_key_for uses {salted[0]}(), which differs from one Python process to the "
        "next (string hashes are salted per process, ids are addresses): after a restart the "
        "same delivery gets a new key and is loaded again. Build the key as text from the "
        "file's name and fingerprint"
    )
    redeliver(files[0])
    three, _ = tick(phase, None, "TODO 3")
    keys_three = run_keys(three)
    assert keys_three.get(files[0].name) != keys_one[files[0].name], (
        f"TODO 3: {files[0].name} was delivered again with new content but kept its run_key "
        f"{keys_one[files[0].name]!r}: Dagster would never load the new version. Include the "
        "fingerprint."
    )
    assert keys_three.get(files[1].name) == keys_one[files[1].name], (
        f"TODO 3: {files[1].name} did not change, but its run_key did"
    )
    redeliver_same_size(files[1])
    four, _ = tick(phase, None, "TODO 3")
    keys_four = run_keys(four)
    assert keys_four.get(files[1].name) != keys_one[files[1].name], (
        f"TODO 3: {files[1].name} was delivered again with one digit changed (the same size and "
        f"mtime, as cp -p keeps them) but kept its run_key {keys_one[files[1].name]!r}: build it "
        "from the whole fingerprint (file.fingerprint), not the size or the time"
    )


def test_sensor_skips_incomplete_files(phase, folder, monkeypatch):
    done = deliver(folder, date(2024, 1, 1))
    writing = deliver(folder, date(2024, 1, 2), age=0)  # its writer is still at work
    part = folder / ".weather_2024-01-03.csv.part"
    part.write_text(done.read_text()[:500])
    hidden = folder / ".DS_Store"
    hidden.write_bytes(b"\x00\x01binary")
    (folder / "weather_2024-01-05.csv").mkdir()  # a directory is never a delivery
    for p in (part, hidden):
        _age(p)
    got, cursor = tick(phase, None, "TODO 1")
    assert names(got) == [done.name], (
        f"TODO 1: with one complete file ({done.name}), one still being written, a .part file, a "
        f"dotfile and a directory, the sensor requested {names(got) or 'nothing'}. "
        "Loop over ready_files(): it skips what is not complete."
    )
    _age(writing)  # its writer finished a minute ago
    got, cursor = tick(phase, None, "TODO 1")  # a fresh cursor: this is not about TODO 2
    assert names(got) == sorted([done.name, writing.name]), (
        f"TODO 1: once {writing.name} was complete, a fresh sensor requested "
        f"{names(got) or 'nothing'}, expected {sorted([done.name, writing.name])}"
    )
    monkeypatch.setenv(incoming.INCOMING_ENV, str(folder / "does-not-exist"))
    got, _ = tick(phase, cursor, "TODO 1")
    assert not got, "TODO 1: a missing incoming directory must give no requests"


# --- freshness and automation ----------------------------------------------------------------


def _asset(phase, name: str, todo: str):
    try:
        return getattr(phase, name)
    except AttributeError as exc:
        pytest.fail(f"{todo}: phase5_automation.py: {exc}", pytrace=False)


def test_summary_freshness_policy(phase):
    summary = _asset(phase, "daily_summary", "TODO 4")
    (spec,) = list(summary.specs)
    policy = spec.freshness_policy
    assert policy is not None, (
        "TODO 4: daily_summary has no freshness policy (SUMMARY_FRESHNESS is None): give it a "
        "time-window policy (dg.FreshnessPolicy) that warns and fails after the ages TODO 4 names"
    )
    fail = getattr(policy, "fail_window", None)
    warn = getattr(policy, "warn_window", None)
    assert fail is not None, (
        f"TODO 4: daily_summary's policy is {type(policy).__name__}, expected a time window "
        "policy (FreshnessPolicy.time_window)"
    )
    fail_td = fail.to_timedelta()
    warn_td = warn.to_timedelta() if warn is not None else None
    assert fail_td == timedelta(hours=36), (
        f"TODO 4: the freshness policy fails after {fail_td}, expected 36 hours (1 day, 12:00:00)"
    )
    assert warn_td == timedelta(hours=24), (
        f"TODO 4: the freshness policy warns after {warn_td}, expected 24 hours (1 day, 0:00:00)"
    )


class Ticks:
    """Evaluate the phase's automation conditions tick by tick on an ephemeral instance."""

    def __init__(self, phase, instance, todo: str):
        try:
            assets = [phase.incoming_readings, phase.daily_summary, phase.daily_rollup]
        except AttributeError as exc:
            pytest.fail(f"{todo}: phase5_automation.py: {exc}", pytrace=False)
        self.defs = dg.Definitions(assets=assets, resources=RESOURCES)
        self.instance = instance
        self.cursor = None

    def materialized(self, key: dg.AssetKey) -> None:
        self.instance.report_runless_asset_event(dg.AssetMaterialization(key))

    def at(self, when: datetime) -> dict[dg.AssetKey, int]:
        result = dg.evaluate_automation_conditions(
            defs=self.defs, instance=self.instance, cursor=self.cursor, evaluation_time=when
        )
        self.cursor = result.cursor
        return {k: result.get_num_requested(k) for k in (INCOMING, SUMMARY, ROLLUP)}


def test_summary_is_eager(phase):
    summary = _asset(phase, "daily_summary", "TODO 5")
    (spec,) = list(summary.specs)
    assert spec.automation_condition is not None, (
        "TODO 5: daily_summary has no automation condition (SUMMARY_AUTOMATION is None), so "
        "nothing ever requests it: give it the condition that reacts to every upstream update "
        "(dg.AutomationCondition, see TODO 5)"
    )
    t0 = datetime(2024, 6, 1, 10, 0, 1, tzinfo=UTC)
    with dg.DagsterInstance.ephemeral() as instance:
        ticks = Ticks(phase, instance, "TODO 5")
        got = ticks.at(t0)[SUMMARY]
        assert got == 0, (
            "TODO 5: daily_summary was requested although incoming_readings has never been "
            "loaded: it would fail on a missing table"
        )
        ticks.materialized(INCOMING)
        got = ticks.at(t0 + timedelta(seconds=4))[SUMMARY]
        assert got == 1, (
            f"TODO 5: right after incoming_readings was updated, daily_summary was requested "
            f"{got} times, expected once: eager updates it with no schedule"
        )
        got = ticks.at(t0 + timedelta(seconds=8))[SUMMARY]
        assert got == 0, (
            "TODO 5: daily_summary was requested again on the next tick with no new data: it "
            "would run on every tick"
        )
        ticks.materialized(SUMMARY)  # its run finished
        ticks.at(t0 + timedelta(seconds=10))
        ticks.materialized(INCOMING)
        got = ticks.at(t0 + timedelta(seconds=12))[SUMMARY]
        assert got == 1, (
            "TODO 5: a second file arrived seconds after the first, and daily_summary was not "
            "requested again: eager reacts to every upstream update, a cron condition does not"
        )
    condition = spec.automation_condition
    eager = dg.AutomationCondition.eager()
    relabelled = getattr(condition, "with_label", lambda label: condition)(eager.get_label())
    assert relabelled == eager, (  # eager() under a label of the learner's own is eager()
        f"TODO 5: daily_summary's condition is {_describe(condition)}, not eager(): TODO 5 asks "
        "for the eager condition, which also waits while an upstream is missing or a run is "
        "in progress, and requests each update once"
    )


def _describe(condition) -> str:
    name = getattr(condition, "get_label", lambda: None)() or getattr(condition, "name", "")
    return f"{name or type(condition).__name__!r}"


def test_rollup_on_cron(phase):
    rollup = _asset(phase, "daily_rollup", "TODO 6")
    (spec,) = list(rollup.specs)
    assert spec.automation_condition is not None, (
        "TODO 6: daily_rollup has no automation condition (ROLLUP_AUTOMATION is None), so "
        "nothing ever requests it: give it a cron-based dg.AutomationCondition for 06:00 UTC "
        "every day (see TODO 6)"
    )
    day = datetime(2024, 6, 1, tzinfo=UTC)
    steps = [  # (time, summary updated just before, expected requests, what it means)
        (time_of(day, 5, 50), False, 0, "at 05:50, before any cron tick"),
        (time_of(day, 5, 55), True, 0, "at 05:55: the summary updated, but 06:00 has not come"),
        (time_of(day, 6, 5), False, 0, "at 06:05: no update since the 06:00 tick yet"),
        (time_of(day, 6, 10), True, 1, "at 06:10: the summary updated after the 06:00 tick"),
        (time_of(day, 6, 15), False, 0, "at 06:15: it already ran for today's tick"),
        (time_of(day, 6, 20), True, 0, "at 06:20: another summary update, same day's tick"),
        (
            time_of(day, 12, 10),
            True,
            0,
            "at 12:10: a summary update, but the next tick is tomorrow",
        ),
        (time_of(day, 18, 5), True, 0, "at 18:05: a summary update, but the next tick is tomorrow"),
        (
            time_of(day, 23, 10),
            True,
            0,
            "at 23:10: a summary update, but the next tick is tomorrow",
        ),
        (time_of(day, 30, 5), True, 1, "at 06:05 the next day, after a new update"),
    ]
    with dg.DagsterInstance.ephemeral() as instance:
        ticks = Ticks(phase, instance, "TODO 6")
        ticks.materialized(INCOMING)
        for when, updated, want, meaning in steps:
            if updated:
                ticks.materialized(SUMMARY)
            got = ticks.at(when)[ROLLUP]
            assert got == want, (
                f"TODO 6: daily_rollup was requested {got} times {meaning}; expected {want}. "
                "It should run once a day at 06:00 UTC, after daily_summary has updated since "
                "that tick (on_cron)"
            )


def time_of(day: datetime, hour: int, minute: int) -> datetime:
    return day + timedelta(hours=hour, minutes=minute)


def test_tests_catch_broken_versions(phase, record_property):
    learner_tests.grade(phase, 5, broken, "TODO 7", record_property)
