"""The UI in a real browser, and the UI-steps checklist on runs launched through the webserver.

Starts `dg dev` on the reference solutions (WORKBOOK_DEFS=solutions; a free port, its own DAGSTER_HOME in a temp dir,
so the learner's run history in .dagster_home/ is never touched), waits until every code location
has loaded, then (``workbook/maintainer/screenshots.py``) opens every page the phase texts send
a learner to in headless Chromium and checks that it shows the words the texts use. Screenshots
go to a temporary directory: `uv run pytest` never rewrites docs/screenshots/ (the maintainers'
`uv run python -m workbook.maintainer.screenshots` refreshes those).

Then it does two of the lessons' UI steps the way the UI does them, through the webserver's
GraphQL API (Phase 1's "Materialize all", a 3-day backfill in Phase 3), and proves that
`workbook progress`'s checklist marks exactly those steps done from that instance's records.

`.ci/run` installs chromium when it is missing; without it this test is skipped, saying why.
"""

from __future__ import annotations

import shutil
import time

import pytest

from workbook.learner import checklist
from workbook.maintainer import screenshots as ui

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None,
    reason="chromium is not installed (.ci/run installs it: apt-get install -y chromium)",
)

LAUNCH = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
BACKFILL = """mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""
RUNS = """{ runsOrError { ... on Runs { results { runId status tags { key value } } } } }"""


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory, test_database):
    """`dg dev` on the solutions, on the seeded test database; yields (port, home)."""
    home = tmp_path_factory.mktemp("dagster_home")
    with ui.dagster_dev(home, database_url=test_database) as port:
        yield port, home


def test_every_page_the_texts_name_renders(dagster_ui, tmp_path):
    port, _ = dagster_ui
    tracked = {p: p.stat().st_mtime_ns for p in ui.SCREENSHOTS.glob("*.png")}
    missing = ui.shoot(port, tmp_path / "shots", tmp_path / "chromium-profile")
    assert {p: p.stat().st_mtime_ns for p in ui.SCREENSHOTS.glob("*.png")} == tracked, (
        "the test must not rewrite docs/screenshots/"
    )
    assert {n for n in missing if n.endswith("_asset_graph")} >= {"phase1_asset_graph"}
    assert {"runs_backfills", "automation"} <= set(missing)
    assert not any(missing.values()), f"pages without the texts the lessons name: {missing}"
    assert all((tmp_path / "shots" / f"{name}.png").stat().st_size > 0 for name in missing)


def _runs(port: int) -> list[dict]:
    return ui.graphql(port, RUNS)["runsOrError"]["results"]


def test_ui_steps_done_through_the_webserver_are_checked(dagster_ui):
    port, home = dagster_ui
    steps = {(s.phase, s.id): ok for phase in checklist.checklist(home).values() for s, ok in phase}
    assert not any(steps.values()), f"an instance with no runs has a step done: {steps}"

    location = {"repositoryLocationName": ui.LOCATION, "repositoryName": "__repository__"}
    launched = ui.graphql(port, LAUNCH, {"p": {"selector": {**location,
        "jobName": "__ASSET_JOB",
        "assetSelection": [{"path": ["phase1", n]} for n in ("raw_weather_data",
                                                              "cleaned_weather_data")]},
        # No executor config: the location runs every step in the run's process already.
        "runConfigData": {}}})  # fmt: skip
    assert launched["launchRun"]["__typename"] == "LaunchRunSuccess", launched
    backfill = ui.graphql(port, BACKFILL, {"p": {
        "partitionNames": ["2024-01-01", "2024-01-02", "2024-01-03"],
        "assetSelection": [{"path": ["phase3", "daily_readings"]}], "fromFailure": False,
    }})["launchPartitionBackfill"]  # fmt: skip
    assert backfill["__typename"] == "LaunchBackfillSuccess", backfill

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        runs = _runs(port)
        assert not [r for r in runs if r["status"] in ("FAILURE", "CANCELED")], runs
        done = [r for r in runs if r["status"] == "SUCCESS"]
        if len(done) >= 4:  # Phase 1's run and one per backfilled day
            break
        time.sleep(2)
    else:
        pytest.fail(f"the runs did not finish in 300 s: {_runs(port)}")

    steps = {(s.phase, s.id): ok for phase in checklist.checklist(home).values() for s, ok in phase}
    assert steps[(1, "materialize_both")] and steps[(3, "backfill_three_days")], steps
    assert [k for k, ok in steps.items() if ok] == [(1, "materialize_both"),
                                                    (3, "backfill_three_days")], steps  # fmt: skip
